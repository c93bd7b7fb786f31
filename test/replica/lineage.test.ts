// Does a stream fit the replica? A stream of another source is refused (exit 7) unless --force, and
// a change set (header base) needs every event of its source through base applied: a gap is refused
// naming the missing range, an overlap is skipped as applied. Checked per stream of a concatenation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { encode, fixedHeader } from '../helpers/codec.js';
import { rill } from '../helpers/cli.js';
import { applyRecords } from '../../src/replica/index.js';
import type { Event, EventInput } from '../../src/stream/events.js';
import { RillError } from '../../src/errors.js';
import { feed, rejectsWith, replay, snapshot, stream, type StreamOptions } from './helpers.js';

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

// Another stream of the same source: two capture runs can number different events alike (a run
// whose capture did not commit its state is followed by one that numbers from the same base
// again). The replica records which stream it applied (the header's `created`) and never skips
// seqs that another stream applied.
const T0 = 1_700_000_000_000_000_000n; // 2023-11-14T22:13:20.000Z
const T1 = T0 + 1_000_000_000n;
const T2 = T0 + 2_000_000_000n;
const T3 = T0 + 3_000_000_000n;
const at = (t: bigint) => new Date(Number(t / 1_000_000n)).toISOString().replaceAll('.', '\\.');

/** Entries g<seq> (another run's events at the same seqs), then a commit. */
function others(first: number, n: number): EventInput[] {
  return [...Array.from({ length: n - 1 }, (_, i): EventInput => ({ type: 'mkdir', path: `g${first + i}`, mode: 0o755 })), { type: 'commit' }];
}

const mark = (root: string) => readFileSync(join(root, '.rill/inflight'), 'utf8');

test('a change set of another stream of the source whose base is below the replica’s seq is refused (exit 7); the same stream again is skipped; another full stream applies whole', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'r');
    await apply(root, 1, 5, { source: A, full: true, created: T0 });
    assert.equal(state(root).created, String(T0));
    // A1: on top of seq 5, applied; its capture did not commit, so the next run numbers from 6 again.
    await apply(root, 6, 5, { source: A, base: 5, created: T1 });
    assert.deepEqual([state(root).lastSeq, state(root).created], [10, String(T1)]);
    const before = readFileSync(join(root, '.rill/state.json'), 'utf8');
    const names1 = names(root);
    const msg = new RegExp(
      `has applied seqs 6\\.\\.10 of another stream of source ${A} \\(created ${at(T1)}, an interrupted run whose capture did not commit its state\\), ` +
        `which this change set \\(created ${at(T2)}, on top of seq 5\\) does not build on: its own seqs from 6 are other events; ` +
        'resync the replica with a full stream \\(rill capture --scan --state FILE --full ROOT',
    );
    const a2 = (force = false, dryRun = false) => replay(root, others(6, 3), { force, dryRun, print: () => {}, log: () => {} }, { first: 6, source: A, base: 5, created: T2 });
    await rejectsWith(a2(), 'mismatch', msg);
    await rejectsWith(a2(true), 'mismatch', msg); // --force is about sources; it does not make this fit
    await rejectsWith(a2(false, true), 'mismatch', msg);
    assert.equal(readFileSync(join(root, '.rill/state.json'), 'utf8'), before, 'nothing recorded');
    assert.deepEqual(names(root), names1, 'nothing applied');
    // The same stream (A1) again: its seqs are the ones applied, skipped as before.
    const again = await apply(root, 6, 5, { source: A, base: 5, created: T1 });
    assert.equal(again.stats.skipped, 5);
    assert.equal(again.stats.events, 0);
    // Another stream on top of exactly the replica's seq builds on it: fine.
    await apply(root, 11, 2, { source: A, base: 10, created: T2 });
    assert.deepEqual([state(root).lastSeq, state(root).created], [12, String(T2)]);
    // A full stream of the source from another run, seqs overlapping the applied ones: nothing is skipped.
    const { stats, log } = await replay(root, others(6, 4), { verbose: true }, { first: 6, source: A, full: true, created: T3 });
    assert.equal(stats.skipped, 0);
    assert.equal(stats.events, 4);
    assert.ok(log.some((l) => l.includes(`applied seqs through 12 of source ${A} from another stream of it`) && l.includes('applied whole, nothing skipped')), log.join('\n'));
    assert.deepEqual(names(root), ['g6', 'g7', 'g8'], 'the full stream made the replica exactly its tree');
    assert.deepEqual([state(root).lastSeq, state(root).created], [9, String(T3)]);
    // ... and the change sets of its run follow on.
    await apply(root, 10, 2, { source: A, base: 9, created: T0 + 4_000_000_000n });
    assert.ok(existsSync(join(root, 'f10')));
  } finally {
    cleanup();
  }
});

test('a replay of another stream that stopped (its mark) counts: a change set of yet another stream on that base is refused, that stream again resumes', async () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const withNames of [false, true]) {
      const root = join(dir, withNames ? 'names' : 'data');
      await apply(root, 1, 4, { source: A, full: true, created: T0 });
      // A1 on top of seq 4, cut after a few events (a pipeline that died): new files only, or a
      // directory too (a change of names, marked).
      const a1: EventInput[] = [
        { type: 'create', path: 'a', mode: 0o644 },
        { type: 'write', path: 'a', offset: 0, data: Buffer.from('a1') },
        ...(withNames ? [{ type: 'mkdir', path: 'd', mode: 0o755 } as EventInput] : []),
        { type: 'create', path: 'b', mode: 0o644 },
        { type: 'write', path: 'b', offset: 0, data: Buffer.from('b1') },
        { type: 'commit' },
      ];
      const records = stream(a1, { source: A, first: 5, base: 4, created: T1 });
      await rejectsWith(applyRecords(feed(records.slice(0, withNames ? 6 : 5), undefined, new RillError('stream', 'cut')), root, { log: () => {} }), 'stream', /cut/);
      assert.equal(state(root).lastSeq, 4, 'no commit recorded');
      const m = mark(root);
      assert.equal(m.length % 256, 0, 'the mark is still one fixed-size record');
      assert.equal(JSON.parse(m).created, String(T1), 'the mark names the stream');
      assert.equal(JSON.parse(m).seq, withNames ? 7 : 4);
      assert.ok(existsSync(join(root, 'a')), 'a new file of A1 is in place');
      // The tree, the state and the mark (replay truncates deferred.log to the mark's length, a no-op here).
      const view = () => [...snapshot(root).filter((l) => !l.startsWith('.rill')), mark(root), JSON.stringify(state(root))];
      const snap = view();
      const held = withNames ? 'seqs 5\\.\\.7 \\(and maybe part of later ones: a replay of it stopped there\\)' : 'part of the events after seq 4 \\(a replay of it stopped there\\)';
      await rejectsWith(
        apply(root, 5, 3, { source: A, base: 4, created: T2 }),
        'mismatch',
        new RegExp(`has applied ${held} of another stream of source ${A} \\(created ${at(T1)}, an interrupted run`),
      );
      assert.deepEqual(view(), snap, 'nothing changed');
      // The same stream again resumes and completes.
      await applyRecords(feed(records), root, { log: () => {} });
      assert.deepEqual(names(root), withNames ? ['a', 'b', 'd', 'f1', 'f2', 'f3'] : ['a', 'b', 'f1', 'f2', 'f3']);
      assert.equal(readFileSync(join(root, 'b'), 'utf8'), 'b1');
      assert.deepEqual([state(root).lastSeq, state(root).created], [withNames ? 10 : 9, String(T1)]);
      assert.equal(mark(root), '', 'the commit superseded the mark');
    }
  } finally {
    cleanup();
  }
});

test('records without the stream’s created (older versions) keep the old behaviour: overlapping seqs are skipped', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'r');
    await apply(root, 1, 6, { source: A, full: true, created: T0 });
    const file = join(root, '.rill/state.json');
    const { created: _, ...old } = state(root) as Record<string, unknown>;
    writeFileSync(file, `${JSON.stringify(old)}\n`);
    const { stats } = await apply(root, 4, 5, { source: A, base: 3, created: T1 });
    assert.equal(stats.skipped, 3, 'seqs 4..6 skipped as applied');
    assert.deepEqual([state(root).lastSeq, state(root).created], [8, String(T1)], 'from now on the stream is recorded');
    // An old mark (no created) is taken for the recorded stream's, as before.
    const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    writeFileSync(join(root, '.rill/inflight'), `${JSON.stringify({ boot: bootId, source: A, seq: 9, log: 0 })}\n`);
    const resumed = await apply(root, 9, 3, { source: A, base: 8, created: T1 });
    assert.equal(resumed.stats.skipped, 1);
  } finally {
    cleanup();
  }
});
