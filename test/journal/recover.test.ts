// The torn tail: a writer killed with SIGKILL while writing loses nothing it wrote; a segment cut
// inside a frame is cut back to its last whole frame on the next open, its stream closed with
// end{more}, and the warning says how many bytes went where. The stream can then be continued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, truncateSync, writeFileSync, appendFileSync } from 'node:fs';
import { tempDir } from '../helpers/tree.js';
import { JournalWriter, listSegments } from '../../src/journal/index.js';
import { events, header, readAll, SOURCE, streamsOf } from './helpers.js';
import { spawnWriter } from './spawn.js';

/** Start offsets of the frames of a segment rill wrote (12-byte heads, payload length in bytes 8..12). */
function frames(bytes: Buffer): number[] {
  const out: number[] = [];
  for (let pos = 12; pos + 12 <= bytes.length; pos += 12 + bytes.readUInt32BE(pos + 8)) out.push(pos);
  return out;
}

test('kill -9 of a writing process loses nothing it wrote; a frame cut short is cut back, closed with end{more}, and the stream continues as part 1', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const child = spawnWriter(['forever', dir]);
    const [, synced] = await child.waitFor(/^synced ([1-9]\d{2,})$/);
    child.proc.kill('SIGKILL');
    const exit = await child.exited;
    assert.equal(exit.signal, 'SIGKILL');

    // Before any recovery, a reader gets every whole frame: at least everything synced.
    const [killed] = streamsOf(await readAll(dir));
    assert.equal(killed!.end, undefined, 'no end record: the writer was killed');
    assert.ok(killed!.events.length >= Number(synced), `${killed!.events.length} events read, ${synced} synced`);
    assert.deepEqual(killed!.events, events(1, killed!.events.length));

    // Tear the last frame: cut the segment in the middle of it.
    const [seg] = await listSegments(dir);
    const bytes = readFileSync(seg!.path);
    const starts = frames(bytes);
    assert.ok(starts.length > 3);
    const lastWhole = starts.at(-1)! + 12 + bytes.readUInt32BE(starts.at(-1)! + 8) <= bytes.length ? starts.at(-1)! : starts.at(-2)!;
    const cutAt = lastWhole + 12 + Math.floor(bytes.readUInt32BE(lastWhole + 8) / 2);
    truncateSync(seg!.path, cutAt);

    const warnings: string[] = [];
    const w = await JournalWriter.open(dir, { onWarning: (m) => warnings.push(m) });
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, new RegExp(`${seg!.name} ended in a torn frame .*: cut ${cutAt - lastWhole} bytes at byte ${lastWhole} \\(a frame cut short`));
    const [cut] = streamsOf(await readAll(dir));
    const kept = cut!.events.length;
    assert.ok(kept > 0 && kept < killed!.events.length);
    assert.deepEqual(cut!.events, events(1, kept));
    assert.deepEqual({ count: cut!.end!.count, lastSeq: cut!.end!.lastSeq, more: cut!.end!.more }, { count: kept, lastSeq: kept, more: true });
    assert.deepEqual(w.durable, { source: SOURCE, seq: kept });
    assert.equal(w.lastEnded, false);

    // The same stream (source and created) begun again continues it: part 1, joined by readers.
    w.beginStream(header({ full: true }));
    for (const e of events(kept + 1, 5)) w.append(e);
    w.endStream();
    await w.close();
    const segs = await listSegments(dir);
    assert.equal(segs.length, 2);
    assert.equal(segs[1]!.firstSeq, kept + 1);
    const [whole, ...rest] = streamsOf(await readAll(dir));
    assert.equal(rest.length, 0, 'one stream');
    assert.deepEqual(whole!.header, header({ full: true }));
    assert.deepEqual(whole!.events, events(1, kept + 5));
    assert.deepEqual({ count: whole!.end!.count, more: whole!.end!.more }, { count: kept + 5, more: undefined });
  } finally {
    cleanup();
  }
});

test('a last segment without a whole header is removed; damage before the end of a segment is refused, not cut', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const w = await JournalWriter.open(dir);
    w.beginStream(header());
    for (const e of events(1, 30)) w.append(e);
    w.endStream();
    await w.close();
    const [seg] = await listSegments(dir);
    // A second segment whose writer died as it created it: only part of the signature.
    const half = `${dir}/00000002-00000000000000000031.rill`;
    writeFileSync(half, Buffer.from('d9d9f8da52', 'hex'));
    const warnings: string[] = [];
    await (await JournalWriter.open(dir, { onWarning: (m) => warnings.push(m) })).close();
    assert.match(warnings.join('\n'), /00000002-00000000000000000031\.rill held 5 bytes, not even a whole stream header .*removed it/);
    assert.equal((await listSegments(dir)).length, 1);

    // A flipped bit in the middle of the last segment, with whole frames after it: an error, nothing cut.
    const bytes = readFileSync(seg!.path);
    const starts = frames(bytes);
    const victim = starts[2]!;
    bytes[victim + 20]! ^= 0x40;
    truncateSync(seg!.path, 0);
    appendFileSync(seg!.path, bytes.subarray(0, bytes.length - 40)); // and no end record
    await assert.rejects(JournalWriter.open(dir), new RegExp(`damaged at byte ${victim}, before its end`));
    assert.equal(readFileSync(seg!.path).length, bytes.length - 40, 'left as it was');
  } finally {
    cleanup();
  }
});
