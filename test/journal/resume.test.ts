// Reading from a consumer's position: a change set from the segment holding seq+1 (its part header
// a valid change set), a full stream from its first part (with fullPrefix: its names at or below the
// position), other sources whole, and events the journal no longer has named in a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers/tree.js';
import { RillError } from '../../src/errors.js';
import type { Event } from '../../src/stream/events.js';
import { listSegments, NAMESPACE_EVENTS, trimJournal } from '../../src/journal/index.js';
import { events, header, readAll, SOURCE, streamsOf, writeJournal, type StreamSpec } from './helpers.js';

const FULL: StreamSpec = { header: header({ full: true }), events: events(1, 50) };
const CHANGES: StreamSpec = { header: header({ base: 50, created: 2000n }), events: events(51, 60) };
const OTHER: StreamSpec = { header: header({ source: 'other', full: true }), events: events(1, 4) };
const OPTS = { segmentBytes: 30_000, frameBytes: 4096 };

function seqs(evs: Event[]): number[] {
  return evs.map((e) => e.seq);
}

test('resume inside a change set: from the segment holding seq+1, only events after seq, then later streams whole', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeJournal(dir, [FULL, CHANGES, OTHER], OPTS);
    const got = streamsOf(await readAll(dir, { after: { source: SOURCE, seq: 90 } }));
    assert.equal(got.length, 2);
    const [c, o] = got;
    assert.equal(c!.header.source, SOURCE);
    assert.equal(c!.header.full, undefined);
    assert.ok(c!.header.base! <= 90 && c!.header.base! >= 50, `a change set the consumer can apply (base ${c!.header.base})`);
    assert.ok(c!.header.part! > 0, 'started at a later part, not at the stream start');
    assert.deepEqual(seqs(c!.events), seqs(CHANGES.events).filter((s) => s > 90));
    assert.deepEqual({ count: c!.end!.count, lastSeq: c!.end!.lastSeq }, { count: 20, lastSeq: 110 });
    assert.deepEqual(o!.events, OTHER.events, 'a stream of another source: whole');
  } finally {
    cleanup();
  }
});

test('resume inside a full stream: from its first part; with fullPrefix its names at or below seq, without only later events', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeJournal(dir, [FULL, CHANGES], OPTS);
    assert.ok((await listSegments(dir)).length >= 4, 'the full stream is split in parts');
    const withPrefix = streamsOf(await readAll(dir, { after: { source: SOURCE, seq: 30 }, fullPrefix: true }));
    assert.equal(withPrefix.length, 2);
    assert.deepEqual(withPrefix[0]!.header, FULL.header, 'the full stream from its original header');
    const expected = FULL.events.filter((e) => e.seq > 30 || NAMESPACE_EVENTS.has(e.type));
    assert.deepEqual(withPrefix[0]!.events, expected);
    assert.ok(expected.some((e) => e.seq <= 30) && expected.some((e) => e.seq > 30));
    assert.equal(withPrefix[0]!.end!.count, expected.length);
    assert.deepEqual(withPrefix[1]!.events, CHANGES.events);

    const plain = streamsOf(await readAll(dir, { after: { source: SOURCE, seq: 30 } }));
    assert.deepEqual(plain[0]!.header, FULL.header);
    assert.deepEqual(seqs(plain[0]!.events), seqs(FULL.events).filter((s) => s > 30));
  } finally {
    cleanup();
  }
});

test('resume at the end of a stream starts at the next one; a source not in the journal reads it all; past the end, nothing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeJournal(dir, [FULL, CHANGES, OTHER], OPTS);
    const next = streamsOf(await readAll(dir, { after: { source: SOURCE, seq: 50 }, fullPrefix: true }));
    assert.deepEqual(next.map((s) => s.header.source), [SOURCE, 'other']);
    assert.equal(next[0]!.header.created, 2000n, 'the full stream is not resent');
    assert.deepEqual(next[0]!.events, CHANGES.events);

    const stranger = streamsOf(await readAll(dir, { after: { source: 'unknown', seq: 7 } }));
    assert.equal(stranger.length, 3);

    const beyond = streamsOf(await readAll(dir, { after: { source: SOURCE, seq: 500 } }));
    assert.deepEqual(beyond.flatMap((s) => s.events.filter((e) => s.header.source === SOURCE && e.seq <= 500)), []);
    assert.deepEqual(beyond.at(-1)!.events, OTHER.events);
  } finally {
    cleanup();
  }
});

test('events of the source trimmed away: a mismatch naming the missing seqs', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeJournal(dir, [FULL, CHANGES, { header: header({ base: 110, created: 3000n }), events: events(111, 3) }], OPTS);
    const { removed } = await trimJournal(dir, { source: SOURCE, seq: 110 });
    assert.ok(removed.length > 0);
    await assert.rejects(readAll(dir, { after: { source: SOURCE, seq: 60 } }), (err: unknown) => {
      assert.ok(err instanceof RillError);
      assert.equal(err.kind, 'mismatch');
      assert.match(err.message, /seq 61\.\.110 were trimmed/);
      return true;
    });
    const rest = streamsOf(await readAll(dir, { after: { source: SOURCE, seq: 110 } }));
    assert.deepEqual(seqs(rest[0]!.events), [111, 112, 113]);
  } finally {
    cleanup();
  }
});
