// External merge sort of file data: with a budget far below the data, runs are spilled to --tmpdir
// and merged in tiers (16 runs into one of the next tier), the last writer still winning over bytes
// in memory and in every run, cuts of truncates applied to spilled bytes too; the output replays to
// the input's tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import type { Event, EventInput } from '../../src/stream/events.js';
import { isRoot, tempDir } from '../helpers/tree.js';
import { assertEquivalent, merge, records, show, totals, writeInputs } from './harness.js';

test('data far beyond --memory is spilled in runs, the runs merged, and the result is the input\'s', { skip: !isRoot && 'needs root' }, async () => {
  const input: EventInput[] = [{ type: 'create', path: 'big', mode: 0o644 }, { type: 'create', path: 'other', mode: 0o644 }];
  // 24 passes over 64 blocks of 16 KiB (each pass overwriting the last), interleaved with another file:
  // some 400 runs, so runs merged from merged runs (a second tier) too.
  for (let pass = 0; pass < 24; pass++) {
    for (let b = 0; b < 64; b++) {
      input.push({ type: 'write', path: 'big', offset: ((b * 37) % 64) * 16384 + pass * 100, data: Buffer.alloc(16384, pass * 64 + b) });
      if (b % 8 === 0) input.push({ type: 'write', path: 'other', offset: b * 1000, data: Buffer.alloc(3000, b) });
    }
  }
  input.push({ type: 'truncate', path: 'big', size: 300_000 }, { type: 'write', path: 'big', offset: 2_000_000, data: Buffer.from('tail') });
  input.push(...['', 'big', 'other'].map((path): EventInput => ({ type: 'utimes', path, atime: 1n, mtime: 2n })));
  const events = input.map((e, i) => ({ ...e, seq: i + 1 }) as Event);
  const { dir, cleanup } = tempDir('rill-spill-');
  try {
    const before = { ...totals };
    const out = await merge(dir, await writeInputs(dir, [{ events }]), { memory: 64 * 1024 });
    assert.ok(totals.spilledRuns - before.spilledRuns >= 16, `spilled ${totals.spilledRuns - before.spilledRuns} runs`);
    assert.ok(totals.mergedRuns - before.mergedRuns > 16, `runs were merged in two tiers (${totals.mergedRuns - before.mergedRuns} merges)`);
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('rill-sort-merge-')), [], 'spill files removed');
    // 1,536 writes of big become its first 1 MiB (cut by the truncate) and the write after it; other's 192, its 8 blocks.
    assert.deepEqual(out.flatMap((r) => (r.type === 'write' ? [r.path] : [])).join(','), `big,big,${Array(8).fill('other').join(',')}`, show(out));
    await assertEquivalent(dir, { entries: [], meta: [] }, records(events), out, () => show(out));
  } finally {
    cleanup();
  }
});
