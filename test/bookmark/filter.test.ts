// rill bookmark NAME as a filter: the last commit of the input becomes the bookmark (same seq, so the
// source's numbering is untouched), --every marks the first commit after each period, a live stream
// is not held back; and rill dump --bookmarks over files, stdin and a journal directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rill } from '../helpers/cli.js';
import { encode, fixedHeader } from '../helpers/codec.js';
import { tempDir } from '../helpers/tree.js';
import { insertBookmarks } from '../../src/freeze/insert.js';
import { writeJournal, header as journalHeader } from '../journal/helpers.js';
import type { Event, EventInput, StreamRecord } from '../../src/stream/events.js';

const numbered = (events: EventInput[], first = 1): Event[] => events.map((e, i) => ({ ...e, seq: first + i }) as Event);

const TREE: EventInput[] = [
  { type: 'mkdir', path: 'd', mode: 0o755 },
  { type: 'commit' },
  { type: 'create', path: 'd/f', mode: 0o644 },
  { type: 'write', path: 'd/f', offset: 0, data: Buffer.from('x') },
  { type: 'commit' },
  { type: 'note', code: 'changed', message: 'a note after the last commit', path: 'd/f' },
];

function dumpLines(bytes: Buffer): Record<string, unknown>[] {
  const r = rill(['dump'], bytes);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('the last commit becomes the bookmark, keeping its seq; everything else passes unchanged', async () => {
  const input = await encode(numbered(TREE));
  const r = rill(['bookmark', '--consistent', 'before-upgrade'], input);
  assert.equal(r.code, 0, r.stderr);
  const before = dumpLines(input);
  const after = dumpLines(r.stdout);
  assert.equal(after.length, before.length);
  const bm = after[5]!;
  assert.equal(bm.type, 'bookmark');
  assert.equal(bm.seq, 5, 'the seq of the commit it replaced');
  assert.equal(bm.name, 'before-upgrade');
  assert.equal(bm.consistent, true);
  assert.ok(Math.abs(Number(BigInt(bm.wall as string) / 1_000_000n) - Date.now()) < 60_000, 'wall is now');
  assert.deepEqual({ ...after, 5: undefined }, { ...before, 5: undefined }, 'the rest is the same, the end record too');
  assert.equal(before[5]!.type, 'commit');
});

test('concatenated streams: only the last one gets the bookmark; without --consistent it is not consistent', async () => {
  const a = await encode(numbered(TREE));
  const b = await encode(numbered([{ type: 'mkdir', path: 'e', mode: 0o700 }, { type: 'commit' }], 7), {}, { ...fixedHeader, full: undefined, base: 6 });
  const r = rill(['bookmark', 'x'], Buffer.concat([a, b]));
  assert.equal(r.code, 0, r.stderr);
  const recs = dumpLines(r.stdout);
  assert.deepEqual(recs.filter((x) => x.type === 'bookmark').map((x) => [x.seq, x.name, x.consistent]), [[8, 'x', false]]);
  assert.equal(recs.filter((x) => x.type === 'commit').length, 2);
});

test('an input that does not end with a commit: exit 3, no place for the bookmark; bad names exit 2', async () => {
  const input = await encode(numbered([{ type: 'mkdir', path: 'd', mode: 0o755 }, { type: 'commit' }, { type: 'mkdir', path: 'e', mode: 0o755 }]));
  const r = rill(['bookmark', 'x'], input);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /no place for bookmark "x": the input does not end with a commit/);
  for (const name of ['', '-x', 'a/b', 'a b', 'x'.repeat(129), 'é']) {
    const bad = rill(['bookmark', name], input);
    assert.equal(bad.code, 2, `${name}: ${bad.stderr}`);
    // '' and '-x' are refused by the argument parser itself (a missing NAME, an unknown flag).
    if (name !== '' && name !== '-x') assert.match(bad.stderr, /is not a valid bookmark name/);
  }
});

/** Batches of a live stream: [header], then each event after `gapMs`, an end record at the end. */
async function* live(events: Event[], gapMs: number, log?: string[]): AsyncGenerator<StreamRecord[]> {
  yield [{ type: 'header', magic: 'rill', version: 1, ...fixedHeader } as StreamRecord];
  for (const e of events) {
    await sleep(gapMs);
    log?.push(`in ${e.seq}`);
    yield [e];
  }
  yield [{ type: 'end', count: events.length, checksum: 0 }];
}

test('--every: the first commit after each period becomes a bookmark', async () => {
  const events = numbered(Array.from({ length: 12 }, (): EventInput => ({ type: 'commit' })));
  const out: StreamRecord[] = [];
  for await (const b of insertBookmarks(live(events, 25), { name: 'tick', consistent: false, everyMs: 100 })) out.push(...b);
  const marks = out.filter((r) => r.type === 'bookmark').map((r) => (r as Event).seq);
  assert.ok(marks.length >= 2 && marks.length <= 3, `marks at ${marks.join(',')}`);
  assert.ok(marks[0]! >= 3, 'not before the first period ended');
  assert.deepEqual(out.map((r) => (r.type === 'header' || r.type === 'end' ? r.type : (r as Event).seq)), ['header', ...events.map((e) => e.seq), 'end']);
});

test('a live stream is not held back: a commit with no end behind it is let go after holdMs', async () => {
  const log: string[] = [];
  const events = numbered([{ type: 'mkdir', path: 'a', mode: 0o755 }, { type: 'commit' }, { type: 'mkdir', path: 'b', mode: 0o755 }, { type: 'commit' }]);
  for await (const b of insertBookmarks(live(events, 300, log), { name: 'end', consistent: false, holdMs: 50 })) {
    for (const r of b) if (r.type !== 'header') log.push(`out ${r.type === 'end' ? 'end' : `${r.type} ${(r as Event).seq}`}`);
  }
  assert.deepEqual(log, ['in 1', 'out mkdir 1', 'in 2', 'out commit 2', 'in 3', 'out mkdir 3', 'in 4', 'out bookmark 4', 'out end']);
});

test('dump --bookmarks lists the bookmarks of files, stdin and a journal directory', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const marked = rill(['bookmark', '--consistent', 'nightly'], await encode(numbered(TREE))).stdout;
    const file = join(dir, 'a.rill');
    writeFileSync(file, marked);
    const journal = join(dir, 'journal');
    const wall = 1_700_000_000_123_000_000n;
    await writeJournal(journal, [{ header: journalHeader(), events: numbered([{ type: 'mkdir', path: 'd', mode: 0o755 }, { type: 'bookmark', name: 'j1', wall, consistent: false }, { type: 'bookmark', name: 'j2', wall, consistent: true }]) }]);
    const r = rill(['dump', '--bookmarks', file, journal]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => [l.name, l.seq, l.consistent, l.input]), [['nightly', 5, true, file], ['j1', 2, false, journal], ['j2', 3, true, journal]]);
    assert.equal(lines[1]!.time, '2023-11-14T22:13:20.123Z');
    assert.equal(lines[1]!.wall, '1700000000123000000');
    assert.equal(lines[0]!.source, fixedHeader.source);
    const stdin = rill(['dump', '--bookmarks'], marked);
    assert.equal(JSON.parse(stdin.stdout.toString()).input, 'stdin');
  } finally {
    cleanup();
  }
});
