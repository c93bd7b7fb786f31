// The contract of sort-merge as properties: for random starting trees and random event sequences
// (every kind: renames over existing entries, hard links, truncates, overlapping writes, punches,
// the stash, bookmarks), replaying the output gives the tree replaying the input gives, at every
// bookmark the output kept and at the end; with a memory budget small enough to spill; with the
// input split into increments given in any order; and with the events of two nodes.
// RILL_PROPERTY_RUNS scales the runs; RILL_PROPERTY_SEED (and _PATH) replays a failure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { scanEvents } from '../../src/capture/scan.js';
import fc from 'fast-check';
import type { Event } from '../../src/stream/events.js';
import { treeArb } from '../helpers/random-tree.js';
import { isRoot, makeTree, requireCapability, tempDir } from '../helpers/tree.js';
import { generate, opArb, opArbWith } from './gen.js';
import { assertEquivalent, header, merge, records, show, totals, writeInputs } from './harness.js';
import type { SortMergeOptions } from '../../src/merge/index.js';

const RUNS = Number(process.env.RILL_PROPERTY_RUNS ?? 1);
const seed = process.env.RILL_PROPERTY_SEED === undefined ? {} : { seed: Number(process.env.RILL_PROPERTY_SEED), path: process.env.RILL_PROPERTY_PATH };
const opsArb = fc.array(opArb, { minLength: 1, maxLength: 70, size: 'medium' });

/** One property run: the events split into input streams by `split`, merged with `options`, compared. */
async function check(tree: Parameters<typeof generate>[0], events: Event[], split: (events: Event[]) => { events: Event[]; header?: ReturnType<typeof header> }[], options: Partial<SortMergeOptions>): Promise<void> {
  const { dir, cleanup } = tempDir('rill-merge-');
  try {
    const inputs = await writeInputs(dir, split(events));
    const out = await merge(dir, inputs.reverse(), options).catch((err: Error) => fail(err, events));
    await assertEquivalent(dir, tree, records(events), out, () => `input:\n${show(records(events))}\noutput:\n${show(out)}`).catch((err: Error) => fail(err, events));
  } finally {
    cleanup();
  }
}

/** A failure, with the input events when RILL_MERGE_DUMP names a file to write them to. */
function fail(err: Error, events: Event[]): never {
  if (process.env.RILL_MERGE_DUMP !== undefined) writeFileSync(process.env.RILL_MERGE_DUMP, `${err.message}\n${show(records(events))}\n`);
  throw err;
}

function property(name: string, runs: number, body: (tree: Parameters<typeof generate>[0], events: Event[], k: number) => Promise<void>, ops = opsArb): void {
  test(name, { timeout: 600_000 }, async (t) => {
    if (!requireCapability(t, isRoot, 'root (ownership and devices in the random trees)')) return;
    await fc.assert(
      fc.asyncProperty(treeArb, ops, fc.nat({ max: 1000 }), async (tree, list, k) => body(tree, generate(tree, list), k)),
      { numRuns: Math.max(1, Math.round(runs * RUNS)), endOnFailure: true, includeErrorInReport: true, ...seed },
    );
  });
}

/** Splits events into `parts` change sets of one source, each on top of the one before. */
function increments(events: Event[], parts: number): { events: Event[]; header: ReturnType<typeof header> }[] {
  const size = Math.ceil(events.length / parts);
  const out: { events: Event[]; header: ReturnType<typeof header> }[] = [];
  for (let i = 0; i < events.length; i += size) out.push({ events: events.slice(i, i + size), header: i === 0 ? header() : header({ base: events[i - 1]!.seq }) });
  return out;
}

property('the output replays to the same tree as the input, at every kept bookmark and at the end', 80, (tree, events) => check(tree, events, (e) => [{ events: e }], {}));

test('the property above joined rename chains of entries that existed before (a → b → c as a → c)', (t) => {
  if (!requireCapability(t, isRoot, 'root (the property above ran)')) return;
  assert.ok(totals.renamesJoined > 0, JSON.stringify(totals));
});

property('the same with --squash: only the last bookmark is kept', 30, (tree, events) => check(tree, events, (e) => [{ events: e }], { squash: true }));

property(
  'the same with a memory budget small enough to spill runs (and merge them)',
  30,
  (tree, events) => check(tree, events, (e) => [{ events: e }], { memory: 8 * 1024 }),
  fc.array(opArbWith(20), { minLength: 1, maxLength: 150, size: 'large' }),
);

test('the spilling property did spill (merging runs is forced in spill.test.ts)', (t) => {
  if (!requireCapability(t, isRoot, 'root (the properties above ran)')) return;
  assert.ok(totals.spilledRuns > 0, JSON.stringify(totals));
});

property('increments of one source in several files, given in any order (re-sent events included)', 30, (tree, events, k) =>
  check(tree, events, (e) => {
    const parts = increments(e, 2 + (k % 3));
    // A re-sent segment: the last events of one part again at the start of the next.
    if (parts.length > 1 && parts[0]!.events.length > 2) parts[1] = { events: [...parts[0]!.events.slice(-2), ...parts[1]!.events], header: header({ base: parts[0]!.events.at(-3)!.seq }) };
    return parts;
  }, {}),
);

test('a full stream and its increments merge into a full stream (then a change set after a kept bookmark) that replays the same', { timeout: 600_000 }, async (t) => {
  if (!requireCapability(t, isRoot, 'root (ownership and devices in the random trees)')) return;
  await fc.assert(
    fc.asyncProperty(treeArb, treeArb, opsArb, async (captured, start, ops) => {
      const { dir, cleanup } = tempDir('rill-merge-');
      try {
        makeTree(join(dir, 'src'), captured.entries, captured.meta);
        const full = [...scanEvents(join(dir, 'src'))].map((e, i) => ({ ...e, ...(e.type === 'write' ? { data: Buffer.from(e.data) } : {}), seq: i + 1 }) as Event);
        const incs = generate(captured, ops, { first: full.length + 1, chownNew: true });
        const parts = [{ events: full, header: header({ full: true }) }, { events: incs, header: header({ base: full.length }) }];
        const input = [...records(full, parts[0]!.header), ...records(incs, parts[1]!.header)];
        const out = await merge(dir, (await writeInputs(dir, parts)).reverse()).catch((err: Error) => fail(err, incs));
        if (out[0]?.type !== 'header' || out[0].full !== true) assert.fail('the output starts with a full stream');
        await assertEquivalent(dir, start, input, out, () => `input:\n${show(input)}\noutput:\n${show(out)}`).catch((err: Error) => fail(err, incs));
      } finally {
        cleanup();
      }
    }),
    { numRuns: Math.max(1, Math.round(30 * RUNS)), endOnFailure: true, includeErrorInReport: true, ...seed },
  );
});

property('two nodes of one source, merged by time', 30, (tree, events) =>
  check(tree, events, (e) => {
    const timed = e.map((ev, i) => ({ ...ev, time: BigInt(i) * 1000n }) as Event);
    return [0, 1].map((n) => ({ events: timed.filter((_, i) => i % 2 === n), header: header({ node: `node-${n}` }) }));
  }, {}),
);
