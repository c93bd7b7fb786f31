// Streams written to a journal read back as they were written: rotated by size and age into parts
// that readers join, a new stream in a new segment, every segment a valid rill stream on its own,
// and the writer keeping nothing of the caller's buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { readBatches } from '../../src/stream/inputs.js';
import type { StreamRecord } from '../../src/stream/events.js';
import { JournalWriter, listSegments, parseSegmentName, segmentName } from '../../src/journal/index.js';
import { assertStreams, events, header, keep, readAll, SOURCE, streamsOf, writeJournal, type StreamSpec } from './helpers.js';

const STREAMS: StreamSpec[] = [
  { header: header({ full: true }), events: events(1, 60) },
  { header: header({ base: 60, created: 2000n }), events: events(61, 45) },
  { header: header({ base: 105, created: 3000n }), events: [] },
  { header: header({ source: 'other', full: true }), events: events(1, 5) },
];

test('segment names: number and first seq, zero-padded, parsed back; other names are not segments', () => {
  assert.equal(segmentName(1, 0), '00000001-00000000000000000000.rill');
  assert.equal(segmentName(12, 4097), '00000012-00000000000000004097.rill');
  assert.deepEqual(parseSegmentName('00000012-00000000000000004097.rill'), { number: 12, firstSeq: 4097 });
  for (const bad of ['lock', '1-2.rill', '00000012-00000000000000004097.rill.tmp', '0000001x-00000000000000004097.rill']) assert.equal(parseSegmentName(bad), undefined, bad);
});

test('streams rotated by size into many parts read back joined, equal to what was written', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeJournal(dir, STREAMS, { segmentBytes: 20_000, frameBytes: 4096 });
    const segs = await listSegments(dir);
    assert.ok(segs.length > 10, `rotated into ${segs.length} segments`);
    assert.deepEqual(segs.map((s) => s.number), segs.map((_, i) => i + 1), 'numbered 1, 2, ... in order');
    for (const s of segs) assert.ok(statSync(s.path).size < 20_000 + 90_000, `${s.name} stops near segmentBytes`);
    assertStreams(await readAll(dir), STREAMS);

    // Each segment is a complete rill stream; a part header is a change set on top of the part before.
    const parts: StreamRecord[][] = [];
    for (const s of segs) {
      const recs: StreamRecord[] = [];
      for await (const b of readBatches([s.path])) recs.push(...b.map(keep));
      parts.push(recs);
      const h = recs[0]!;
      const first = recs.find((r) => r.type !== 'header' && r.type !== 'end');
      assert.equal(s.firstSeq, first === undefined ? s.firstSeq : (first as { seq: number }).seq, `${s.name}: named by its first event`);
      assert.equal(h.type, 'header');
    }
    const withPart = parts.filter((p) => (p[0] as { part?: number }).part !== undefined);
    assert.ok(withPart.length > 0, 'some segments are continuation parts');
    for (const p of withPart) {
      const h = p[0] as { full?: boolean; base?: number };
      assert.equal(h.full, undefined, 'a part is never full');
      assert.equal(typeof h.base, 'number', 'a part is a change set');
    }
    // The segment files read in order by readBatches join to the same streams.
    const all: StreamRecord[] = [];
    for await (const b of readBatches(segs.map((s) => s.path))) all.push(...b.map(keep));
    assertStreams(all, STREAMS);
  } finally {
    cleanup();
  }
});

test('a new stream starts a new segment; a stream without events gets a segment named previous last seq + 1', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeJournal(dir, [{ header: header({ created: 1n }), events: [] }, ...STREAMS.slice(0, 3)]);
    const names = (await listSegments(dir)).map((s) => s.name);
    assert.deepEqual(names, [segmentName(1, 0), segmentName(2, 1), segmentName(3, 61), segmentName(4, 106)]);
  } finally {
    cleanup();
  }
});

test('rotation by age: a segment older than segmentAgeMs is ended at the next event', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const evs = events(1, 6);
    const w = await JournalWriter.open(dir, { segmentAgeMs: 30 });
    w.beginStream(header());
    for (const e of evs) {
      w.append(e);
      if (e.seq % 2 === 0) await new Promise((r) => setTimeout(r, 40));
    }
    w.endStream();
    await w.close();
    assert.equal((await listSegments(dir)).length, 3, 'one segment per 40 ms pause');
    assertStreams(await readAll(dir), [{ header: header(), events: evs }]);
  } finally {
    cleanup();
  }
});

test('append keeps nothing of the caller buffers: a reused buffer of each size class reads back as it was', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const buf = Buffer.alloc(200 * 1024);
    const sizes = [5, 900, 1500, 40_000, 70_000, 200 * 1024];
    const w = await JournalWriter.open(dir, { frameBytes: 100_000 });
    w.beginStream(header());
    sizes.forEach((n, i) => {
      buf.fill(i + 1);
      w.append({ type: 'write', seq: i + 1, path: 'f', offset: 0, data: buf.subarray(0, n) });
    });
    buf.fill(0xee);
    w.endStream();
    await w.close();
    const [s] = streamsOf(await readAll(dir));
    assert.deepEqual(
      s!.events.map((e) => (e.type === 'write' ? [e.data.length, e.data.every((b) => b === e.seq)] : [])),
      sizes.map((n) => [n, true]),
    );
  } finally {
    cleanup();
  }
});

test('sync returns the durable position; an open stream stays open across close and is cut on the next open', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const w = await JournalWriter.open(dir);
    assert.equal(w.durable, undefined, 'an empty journal holds nothing');
    w.beginStream(header());
    for (const e of events(1, 5)) w.append(e);
    assert.deepEqual(await w.sync(), { source: SOURCE, seq: 5 });
    w.append(events(6, 1)[0]!);
    await w.close();
    const warnings: string[] = [];
    const again = await JournalWriter.open(dir, { onWarning: (m) => warnings.push(m) });
    try {
      assert.deepEqual(again.durable, { source: SOURCE, seq: 6 });
      assert.equal(again.lastEnded, false, 'the last stream was cut');
      assert.match(warnings.join('\n'), /had no end record.*end\{more\} after 6 events, through seq 6/);
    } finally {
      await again.close();
    }
    const [s] = streamsOf(await readAll(dir));
    assert.deepEqual(s!.end, { type: 'end', count: 6, checksum: s!.end!.checksum, lastSeq: 6, more: true });
    assert.ok(readdirSync(dir).includes('lock'));
    assert.equal(readFileSync(join(dir, 'lock'), 'utf8').trim(), String(process.pid));
  } finally {
    cleanup();
  }
});
