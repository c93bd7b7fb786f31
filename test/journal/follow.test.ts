// Following a journal like tail -F: a reader at the end waits for appended frames and new segments,
// from a writer in this process or in another one, sees the parts joined, and ends when its signal
// aborts (or, with a follow function, once it says stop).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers/tree.js';
import type { StreamRecord } from '../../src/stream/events.js';
import { JournalWriter, listSegments, readJournal, Waker } from '../../src/journal/index.js';
import { assertStreams, events, header, keep, readAll } from './helpers.js';
import { spawnWriter } from './spawn.js';

/** Follows dir until `until` says stop (checked after each batch), then aborts; returns what it read. */
async function follow(dir: string, until: (recs: StreamRecord[]) => boolean, onBatch?: (recs: StreamRecord[]) => void): Promise<StreamRecord[]> {
  const ac = new AbortController();
  const out: StreamRecord[] = [];
  for await (const batch of readJournal(dir, { follow: true, pollMs: 5, signal: ac.signal })) {
    out.push(...batch.map(keep));
    onBatch?.(out);
    if (until(out)) ac.abort();
  }
  return out;
}

const ended = (recs: StreamRecord[]): boolean => recs.at(-1)?.type === 'end';

test('a follower started on an empty directory sees events appended live, across rotations, joined', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const evs = events(1, 40);
    const reading = follow(dir, ended);
    const w = await JournalWriter.open(dir, { segmentBytes: 40_000 });
    w.beginStream(header({ full: true }));
    for (const e of evs) {
      w.append(e);
      if (e.seq % 5 === 0) await new Promise((r) => setTimeout(r, 10)); // the idle flush writes the frame: no sync needed
    }
    w.endStream();
    const got = await reading;
    await w.close();
    assert.ok((await listSegments(dir)).length > 2, 'rotated while followed');
    assertStreams(got, [{ header: header({ full: true }), events: evs }]);
  } finally {
    cleanup();
  }
});

test('a follower sees the events of a writer in another process as they are written', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const child = spawnWriter(['stream', dir, '30', '15']);
    let liveAt: number | undefined;
    const got = await follow(dir, ended, (recs) => {
      if (liveAt === undefined && recs.some((r) => r.type !== 'header' && r.type !== 'end')) liveAt = child.lines.length;
    });
    const exit = await child.exited;
    assert.equal(exit.code, 0, exit.stderr);
    assert.ok(liveAt !== undefined && liveAt < 25, `the first event arrived while the writer was still writing (after ${liveAt} of 30 syncs)`);
    assertStreams(got, [{ header: header({ full: true }), events: events(1, 30) }]);
  } finally {
    cleanup();
  }
});

test('without follow the reader stops at the current end: an open stream up to its last whole frame, no end record', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const w = await JournalWriter.open(dir);
    w.beginStream(header());
    for (const e of events(1, 10)) w.append(e);
    await w.sync();
    const recs = await readAll(dir);
    assert.equal(recs[0]!.type, 'header');
    assert.equal(recs.length, 11, 'the header and 10 events, no end record');
    // A follow function: follows while it says so.
    let more = true;
    const reading = (async () => {
      const out: StreamRecord[] = [];
      for await (const b of readJournal(dir, { follow: () => more, pollMs: 5 })) out.push(...b.map(keep));
      return out;
    })();
    for (const e of events(11, 3)) w.append(e);
    w.endStream();
    await new Promise((r) => setTimeout(r, 50));
    more = false;
    const all = await reading;
    assert.equal(all.at(-1)?.type, 'end');
    assert.equal(all.length, 15);
    await w.close();
    // Aborting a waiting follower ends it at once.
    const ac = new AbortController();
    const t0 = Date.now();
    setTimeout(() => ac.abort(), 30);
    for await (const _ of readJournal(dir, { follow: true, pollMs: 10_000, signal: ac.signal }));
    assert.ok(Date.now() - t0 < 2000);
  } finally {
    cleanup();
  }
});

test('a follower woken by its in-process writer does not wait for the poll interval', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const waker = new Waker();
    const w = await JournalWriter.open(dir, { onWritten: () => waker.wake() });
    w.beginStream(header({ full: true }));
    const evs = events(1, 20);
    const ac = new AbortController();
    const got: StreamRecord[] = [];
    const stamps: number[] = [];
    // A poll interval far longer than the test: only the writer's wake-ups can move the reader.
    const reading = (async () => {
      for await (const batch of readJournal(dir, { follow: true, pollMs: 60_000, signal: ac.signal, waker })) {
        got.push(...batch.map(keep));
        stamps.push(Date.now());
        if (got.at(-1)?.type === 'end') ac.abort();
      }
    })();
    const t0 = Date.now();
    for (const e of evs) {
      w.append(e);
      await new Promise((r) => setTimeout(r, 5)); // the idle flush writes each frame
    }
    w.endStream();
    await reading;
    await w.close();
    assertStreams(got, [{ header: header({ full: true }), events: evs }]);
    assert.ok(stamps.at(-1)! - t0 < 30_000, `read to the end without polling (${stamps.at(-1)! - t0} ms)`);
  } finally {
    cleanup();
  }
});
