// Exact resume (invariant 2) at event granularity: a replay stopped after any event, or after any
// event but before that event's progress mark was written (a kill between the two), and then rerun
// with the same stream, gives the tree of an uninterrupted run. The streams are ones where applying
// a transaction twice is wrong: renames over written files, swaps through the stash, links, removals,
// directory metadata owed to the commit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { applyRecords } from '../../src/replica/index.js';
import { RillError } from '../../src/errors.js';
import { verifyTrees } from '../../src/verify/verify.js';
import type { StreamRecord } from '../../src/stream/events.js';
import { churn } from './churn.js';
import { feed, stream, temps } from './helpers.js';

const quiet = { log: () => {} };

async function differences(a: string, b: string): Promise<string[]> {
  const found: string[] = [];
  await verifyTrees(a, b, {}, (d) => {
    found.push(JSON.stringify(d, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  });
  return found;
}

const NAMESPACE = new Set(['mkdir', 'rename', 'link', 'unlink', 'rmdir', 'symlink', 'mknod']);
const bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();

/** The progress files as they were before a record was handed to replay. */
interface Before { mark: Buffer; log: number }

/** Applies records up to (not including) index `stop`, then fails like a cut stream. */
async function stopBefore(records: StreamRecord[], stop: number, root: string): Promise<Before[]> {
  const seen: Before[] = [];
  const cut = records.slice(0, stop);
  const before = (i: number) => {
    const mark = join(root, '.rill/inflight');
    const log = join(root, '.rill/deferred.log');
    seen[i] = { mark: existsSync(mark) ? readFileSync(mark) : Buffer.alloc(0), log: existsSync(log) ? statSync(log).size : 0 };
  };
  await assert.rejects(applyRecords(feed(cut, before, new RillError('stream', 'cut here')), root, quiet), /cut here/);
  return seen;
}

/**
 * The mark a kill right after the last record's change left: for a change of names, the one replay
 * wrote just before making it (every earlier event applied, and a rename named as being made);
 * else the one before the record.
 */
function markBeforeChange(records: StreamRecord[], last: number, seen: Before[], source: string): Buffer {
  const e = records[last]!;
  const prev = records[last - 1]!;
  if (!NAMESPACE.has(e.type) || prev.type === 'header') return seen[last]!.mark;
  const seq = (prev as { seq: number }).seq;
  const renaming = e.type === 'rename' ? { renaming: e.seq } : {};
  return Buffer.from(`${JSON.stringify({ boot: bootId, source, seq, log: seen[last]!.log, ...renaming })}\n`);
}

test('a replay stopped after any event, even before its mark was written, resumes exactly', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const records = stream(churn(2), { source: 'churn' });
    const whole = join(dir, 'whole');
    await applyRecords(feed(records), whole, quiet);
    let resumedFromMark = 0;
    for (let stop = 2; stop < records.length; stop++) {
      for (const unmarked of [false, true]) {
        const root = join(dir, `r${stop}${unmarked ? 'u' : ''}`);
        const seen = await stopBefore(records, stop, root);
        // A kill between the last event's change and the mark after it.
        if (unmarked) writeFileSync(join(root, '.rill/inflight'), markBeforeChange(records, stop - 1, seen, 'churn'));
        if (statSync(join(root, '.rill/inflight')).size > 0) resumedFromMark++;
        const log: string[] = [];
        await applyRecords(feed(records), root, { log: (l) => log.push(l) });
        const where = `stopped before record ${stop} (${records[stop]!.type})${unmarked ? ', last mark lost' : ''}`;
        assert.deepEqual(await differences(whole, root), [], where);
        assert.deepEqual(temps(root), [], where);
        assert.deepEqual(readdirSync(join(root, '.rill/stash')), [], where);
        assert.ok(!log.some((l) => l.startsWith('warning')), `${where}: ${log.join('\n')}`);
      }
    }
    assert.ok(resumedFromMark > records.length / 2, `most stops are between commits (${resumedFromMark})`);
  } finally {
    cleanup();
  }
});

test('the mark names the source and the last event applied completely; a commit supersedes it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const records = stream(
      [
        { type: 'mkdir', path: 'd', mode: 0o755 },
        { type: 'create', path: 'd/f', mode: 0o644 },
        { type: 'write', path: 'd/f', offset: 0, data: Buffer.from('f') },
        { type: 'utimes', path: 'd', atime: 1n, mtime: 2n },
        { type: 'chmod', path: 'd/f', mode: 0o600 },
        { type: 'commit' },
      ],
      { source: 'm' },
    );
    const seen: string[] = [];
    const root = join(dir, 'r');
    await applyRecords(
      feed(records, (i) => {
        if (i > 1) seen.push(readFileSync(join(root, '.rill/inflight'), 'utf8').trim());
      }),
      root,
      quiet,
    );
    const parsed = seen.map((s) => (s === '' ? undefined : (JSON.parse(s) as { source: string; seq: number; log: number })));
    // after mkdir (seq 1): marked; create and write go to a temp file: not yet
    assert.deepEqual(parsed.slice(0, 3).map((m) => m && [m.source, m.seq, m.log]), [['m', 1, 0], ['m', 1, 0], ['m', 1, 0]]);
    // utimes of d is owed to the commit: journaled; the mark follows at the next change of names
    assert.ok(statSync(join(root, '.rill/deferred.log')).size === 0, 'the commit emptied the log');
    assert.equal(parsed.at(-1), undefined, 'after the commit the mark is empty (superseded by state.json)');
    assert.equal(statSync(join(root, 'd')).mtimeMs, 2e-6);
  } finally {
    cleanup();
  }
});

test('a rename that failed is not taken for made by the rerun (only one a kill interrupted is)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const records = stream(
      [
        { type: 'mkdir', path: 'd', mode: 0o755 },
        { type: 'create', path: 'b', mode: 0o644 },
        { type: 'commit' },
        { type: 'rename', path: 'a', to: 'b' }, // the replica has no 'a': it diverged
        { type: 'commit' },
      ],
      { source: 'diverged' },
    );
    const root = join(dir, 'r');
    await assert.rejects(applyRecords(feed(records), root, quiet), /rename "a".*ENOENT/);
    const mark = JSON.parse(readFileSync(join(root, '.rill/inflight'), 'utf8')) as { renaming?: number };
    assert.equal(mark.renaming, undefined, 'the failed rename is not left in the mark');
    await assert.rejects(applyRecords(feed(records), root, quiet), /rename "a".*ENOENT/);
  } finally {
    cleanup();
  }
});
