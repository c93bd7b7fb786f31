// The equivalence check of sort-merge, in process: inputs written as stream files, sort-merge run on
// them, then the input and the output each replayed (the replica library) onto a fresh copy of one
// starting tree, cut at each bookmark the output kept and whole, and the trees compared (the verify
// library). A difference fails with the events that made it.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { applyRecords } from '../../src/replica/index.js';
import { sortMerge, type SortMergeOptions } from '../../src/merge/index.js';
import type { Event, Header, StreamRecord } from '../../src/stream/events.js';
import { FORMAT_VERSION, MAGIC } from '../../src/stream/events.js';
import type { HeaderInit } from '../../src/stream/encode.js';
import { verifyTrees } from '../../src/verify/verify.js';
import { decode, encode } from '../helpers/codec.js';
import { makeTree } from '../helpers/tree.js';
import type { TreeCase } from '../helpers/random-tree.js';

export const SOURCE = '00000000-0000-4000-8000-0000000000aa';

/** A header for test streams (a plain stream unless told). */
export function header(init: Partial<HeaderInit> = {}): HeaderInit {
  return { source: SOURCE, node: 'n1', kind: 'tree', root: { path: '/src' }, created: 0n, ...init };
}

/** header, events, end as records (what replay of the input takes). */
export function records(events: Event[], h: HeaderInit = header()): StreamRecord[] {
  const head: Header = { type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...h };
  return [head, ...events, { type: 'end', count: events.length, checksum: 0, lastSeq: events.at(-1)?.seq }];
}

/** Writes streams to files in dir; returns their names. */
export async function writeInputs(dir: string, streams: { events: Event[]; header?: HeaderInit }[]): Promise<string[]> {
  const names: string[] = [];
  for (const [i, s] of streams.entries()) {
    const name = join(dir, `in-${i}.rill`);
    writeFileSync(name, await encode(s.events, {}, s.header ?? header()));
    names.push(name);
  }
  return names;
}

/** Totals of the sort-merges run by this process (to check that a property exercised what it claims). */
export const totals = { spilledRuns: 0, mergedRuns: 0, fallbacks: 0, renamesJoined: 0, eventsIn: 0, eventsOut: 0 };

/** Runs sort-merge on the files; returns the output's records. */
export async function merge(dir: string, inputs: string[], o: Partial<SortMergeOptions> = {}): Promise<StreamRecord[]> {
  const output = join(dir, 'out.rill');
  const stats = await sortMerge({ inputs, output, memory: 256 << 20, tmpdir: dir, warn: () => {}, ...o });
  totals.spilledRuns += stats.store.runs;
  totals.mergedRuns += stats.store.merges;
  totals.fallbacks += stats.merge.fallbacks;
  totals.renamesJoined += stats.merge.renamesJoined;
  totals.eventsIn += stats.merge.events;
  totals.eventsOut += stats.output.events;
  return decode(readFileSync(output));
}

/** The records up to and including the bookmark named `name`, ended (the stream replayed "until" it). */
export function cut(recs: StreamRecord[], name: string): StreamRecord[] {
  const i = recs.findIndex((r) => r.type === 'bookmark' && r.name === name);
  assert.ok(i >= 0, `bookmark ${name} not found`);
  return [...recs.slice(0, i + 1), { type: 'end', count: 0, checksum: 0, lastSeq: (recs[i] as Event).seq }];
}

async function* feed(recs: StreamRecord[]): AsyncGenerator<StreamRecord> {
  yield* recs;
}

/** Replays records onto a fresh copy of the starting tree at root. */
export async function replayOnto(root: string, tree: TreeCase, recs: StreamRecord[]): Promise<void> {
  makeTree(root, tree.entries, tree.meta);
  await applyRecords(feed(recs), root, { log: () => {}, force: true });
}

/** Every difference between two trees, one line each. */
export async function differences(a: string, b: string): Promise<string[]> {
  const found: string[] = [];
  await verifyTrees(a, b, { jobs: 1 }, (d) => void found.push(JSON.stringify(d, (_k, v) => (typeof v === 'bigint' ? String(v) : v))));
  return found;
}

/** Asserts that replaying `input` and `output` gives the same tree, at every bookmark the output kept and at the end. */
export async function assertEquivalent(dir: string, tree: TreeCase, input: StreamRecord[], output: StreamRecord[], what: () => string): Promise<void> {
  const kept = output.flatMap((r) => (r.type === 'bookmark' ? [r.name] : []));
  let n = 0;
  for (const point of [...kept, undefined]) {
    const a = join(dir, `a${n}`);
    const b = join(dir, `b${n++}`);
    await replayOnto(a, tree, point === undefined ? input : cut(input, point));
    await replayOnto(b, tree, point === undefined ? output : cut(output, point));
    const diff = await differences(a, b);
    if (diff.length > 0) assert.fail(`trees differ ${point === undefined ? 'at the end' : `at bookmark ${point}`}:\n${diff.slice(0, 10).join('\n')}\n${what()}`);
  }
}

/** Events as readable lines (for failure messages). */
export function show(recs: StreamRecord[]): string {
  return recs
    .map((r) => JSON.stringify(r, (k, v) => (typeof v === 'bigint' ? String(v) : k === 'data' || k === 'value' ? `<${(v as { data?: unknown[] }).data?.length ?? v?.length} bytes>` : v)))
    .join('\n');
}
