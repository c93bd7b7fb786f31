// Does a stream fit the replica? A stream of another source is refused (exit 7) unless --force, and
// a change set (header base) needs every event of its source through base applied: a gap is refused
// naming the missing range, an overlap is skipped as applied. Checked per stream of a concatenation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { encode, fixedHeader } from '../helpers/codec.js';
import { rill } from '../helpers/cli.js';
import { applyRecords } from '../../src/replica/index.js';
import type { Event, EventInput } from '../../src/stream/events.js';
import { feed, rejectsWith, replay, stream, type StreamOptions } from './helpers.js';

const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';

/** Files f<seq> for seqs first..first+n-2, then a commit. */
function files(first: number, n: number): EventInput[] {
  return [...Array.from({ length: n - 1 }, (_, i): EventInput => ({ type: 'create', path: `f${first + i}`, mode: 0o644 })), { type: 'commit' }];
}

/** Replays files(first, n) as a stream of source with the header fields in opts; no --force unless asked. */
const apply = (root: string, first: number, n: number, opts: StreamOptions, force = false) =>
  replay(root, files(first, n), { force, verbose: true }, { first, ...opts });

const state = (root: string) => JSON.parse(readFileSync(join(root, '.rill/state.json'), 'utf8'));
const names = (root: string) => readdirSync(root).filter((n) => n !== '.rill').sort();

test('rill replay: a stream of another source is exit 7 naming both; --force lets a full one replace the replica', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'r');
    const numbered = (events: EventInput[]) => events.map((e, i) => ({ ...e, seq: i + 1 }) as Event);
    assert.equal(rill(['replay', root], await encode(numbered(files(1, 5)), {}, { ...fixedHeader, source: A, node: 'node-a' })).code, 0);
    const before = state(root);
    const other = await encode(numbered(files(1, 3)), {}, { ...fixedHeader, source: B, node: 'node-b' });
    const r = rill(['replay', root], other);
    assert.equal(r.code, 7, r.stderr);
    assert.ok(r.stderr.includes(`is a replica of source ${A} (node node-a, updated ${before.updated}); this stream is from source ${B} (node node-b)`), r.stderr);
    assert.match(r.stderr, /--force/);
    assert.deepEqual(state(root), before, 'nothing recorded');
    assert.deepEqual(names(root), ['f1', 'f2', 'f3', 'f4']);
    assert.equal(rill(['replay', '--dry-run', root], other).code, 7);
    const forced = rill(['replay', '--force', root], other);
    assert.equal(forced.code, 0, forced.stderr);
    assert.match(forced.stderr, new RegExp(`--force: source ${B} replaces source ${A}`));
    assert.deepEqual(names(root), ['f1', 'f2'], 'the full stream replaced the replica');
    assert.equal(state(root).source, B);
    // B's change sets now follow without --force
    await apply(root, 4, 2, { source: B, base: 3 });
    assert.deepEqual(names(root), ['f1', 'f2', 'f4']);
  } finally {
    cleanup();
  }
});

test('a change set with a gap is refused naming the missing range; an overlap is skipped as applied', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'r');
    await apply(root, 1, 10, { source: A, full: true });
    const msg = new RegExp(`change set on top of seq 15 of source ${A}, but seq 11\\.\\.15 of source ${A} are missing; replay the missing streams first, in order, or a full stream`);
    await rejectsWith(apply(root, 16, 3, { source: A, base: 15 }), 'mismatch', msg);
    await rejectsWith(apply(root, 16, 3, { source: A, base: 15 }, true), 'mismatch', msg); // --force does not fill a gap
    await rejectsWith(replay(root, files(16, 3), { dryRun: true, print: () => {} }, { first: 16, source: A, base: 15 }), 'mismatch', msg);
    assert.equal(existsSync(join(root, 'f16')), false);
    // base 5 < applied 10: events 6..10 were applied, 11.. are new
    const { log, stats } = await apply(root, 6, 8, { source: A, base: 5 });
    assert.equal(stats.skipped, 5);
    assert.ok(log.some((l) => /skipped 5 events already applied \(source .*, seq <= 10/.test(l)), log.join('\n'));
    assert.deepEqual(names(root), ['f1', 'f11', 'f12', 'f2', 'f3', 'f4', 'f5', 'f6', 'f7', 'f8', 'f9']);
    assert.equal(state(root).lastSeq, 13);
    await apply(root, 14, 2, { source: A, base: 13 }); // exactly at base
    assert.ok(existsSync(join(root, 'f14')));
  } finally {
    cleanup();
  }
});

test('a change set into a replica without state, or of a source it never saw, is refused even with --force', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const none = new RegExp(`every event through seq 7 of source ${A} is missing \\(the replica has applied none of it\\)`);
    await rejectsWith(apply(join(dir, 'fresh'), 8, 2, { source: A, base: 7 }), 'mismatch', none);
    const root = join(dir, 'r');
    await apply(root, 1, 3, { source: B, full: true });
    await rejectsWith(apply(root, 8, 2, { source: A, base: 7 }, true), 'mismatch', none);
    assert.equal(state(root).source, B);
    // streams with neither full nor base are not checked for gaps
    await apply(root, 50, 2, { source: B });
    assert.ok(existsSync(join(root, 'f50')));
  } finally {
    cleanup();
  }
});

test('concatenated streams: each header is checked when it arrives, before any event of its stream', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'r');
    const records = [
      ...stream(files(1, 4), { source: A, full: true }),
      ...stream(files(5, 3), { source: A, first: 5, base: 4 }),
      ...stream(files(20, 3), { source: A, first: 20, base: 19 }),
    ];
    await rejectsWith(applyRecords(feed(records), root, { log: () => {} }), 'mismatch', /seq 8\.\.19 of source .* are missing/);
    assert.equal(state(root).lastSeq, 7, 'the streams before the gap were applied');
    assert.deepEqual(names(root), ['f1', 'f2', 'f3', 'f5', 'f6']);
    // two full streams of different sources in one input: the second needs --force
    const two = [...stream(files(1, 4), { source: A, full: true }), ...stream(files(1, 2), { source: B, full: true })];
    const root2 = join(dir, 'r2');
    await rejectsWith(applyRecords(feed(two), root2, { log: () => {} }), 'mismatch', new RegExp(`replica of source ${A}`));
    assert.deepEqual(names(root2), ['f1', 'f2', 'f3']);
    await applyRecords(feed(two), root2, { log: () => {}, force: true });
    assert.deepEqual(names(root2), ['f1']);
  } finally {
    cleanup();
  }
});
