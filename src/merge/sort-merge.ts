// rill sort-merge as a library call: inputs planned (inputs.ts), read in merge order, coalesced window
// by window (window.ts), written as one stream (or a full stream and a change set on top of it) to
// stdout or to FILE, complete or not at all; file data beyond the memory budget spilled to --tmpdir.
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { encodeTo } from '../cli-encode.js';
import type { BookmarkEvent } from '../stream/events.js';
import { inputItems, planInputs, type Plan } from './inputs.js';
import { PartWriter, type OutputStats } from './output.js';
import { SpillDir } from './spill.js';
import { DataStore, type StoreStats } from './store.js';
import { Merger, type MergeStats } from './window.js';

/** What `rill sort-merge` does; every field but inputs has a default in the command. */
export interface SortMergeOptions {
  /** Stream files ('-' or none: stdin). */
  inputs: string[];
  /** Output file (written under a temporary name, renamed when complete); undefined or '-': stdout. */
  output?: string;
  /** Memory budget in bytes (file data takes at most about 56% of it: payloadBudget). */
  memory: number;
  /** Where runs (and a spooled stdin) go. */
  tmpdir: string;
  /** Keep only the last bookmark; coalesce across the others. */
  squash?: boolean;
  /** Merge streams of different sources (into a stream of a new source). */
  allowMultipleSources?: boolean;
  /** Warnings for people (default: stderr). */
  warn?: (message: string) => void;
  /** Registers cleanup to run if the process ends early; returns its unregistration. */
  onEarlyExit?: (fn: () => void) => () => void;
}

/** What a sort-merge did. */
export interface SortMergeStats {
  merge: MergeStats;
  output: OutputStats;
  store: StoreStats;
  seconds: number;
}

/**
 * The payload budget: 3/8 of the memory budget. A compaction holds up to 1.5 times it (about 56% of
 * --memory); the rest is Node itself, the read and write buffers, and the model of the files.
 */
export function payloadBudget(memory: number): number {
  return Math.max(4096, Math.floor((memory * 3) / 8));
}

/** Why: the command, tests and the benchmark share one entry point. Throws RillError on bad input. */
export async function sortMerge(o: SortMergeOptions): Promise<SortMergeStats> {
  const started = performance.now();
  const warn = o.warn ?? ((m: string) => process.stderr.write(`rill sort-merge: warning: ${m}\n`));
  let dir: SpillDir | undefined;
  const spill = (): SpillDir => (dir ??= new SpillDir(o.tmpdir));
  const unregister = o.onEarlyExit?.(() => dir?.remove());
  const store = new DataStore(payloadBudget(o.memory), spill);
  try {
    const inputs = o.squash === true ? await spoolStdin(o.inputs, spill) : o.inputs;
    const plan = await planInputs(inputs, o.allowMultipleSources ?? false);
    const keep = o.squash === true ? await lastBookmark(plan) : undefined;
    let merger: Merger | undefined;
    let out: PartWriter | undefined;
    await encodeTo(o.output === '-' ? undefined : o.output, undefined, async (encoder) => {
      out = new PartWriter(encoder);
      merger = new Merger({
        out,
        store,
        header: plan.header,
        multi: plan.multi,
        isBarrier: (e: BookmarkEvent, group: number) => keep === undefined || (keep.group === group && keep.seq === e.seq),
        maxNodes: Math.max(1000, Math.floor(o.memory / 2048)),
        warn,
      });
      for await (const item of inputItems(plan, warn)) {
        if (item.type === 'stream') await merger.stream(item.header);
        else await merger.event(item.event, item.group);
      }
      await merger.finish();
    });
    return { merge: merger!.stats, output: out!.stats, store: store.stats, seconds: (performance.now() - started) / 1000 };
  } finally {
    store.reset();
    dir?.remove();
    unregister?.();
  }
}

/** With --squash every input is read twice: stdin is copied to the temporary directory first. */
async function spoolStdin(inputs: string[], spill: () => SpillDir): Promise<string[]> {
  if (inputs.length > 0 && !inputs.includes('-')) return inputs;
  const file = spill().file('stdin.rill');
  await pipeline(process.stdin, createWriteStream(file));
  return inputs.length === 0 ? [file] : inputs.map((i) => (i === '-' ? file : i));
}

/** The last bookmark in merge order (the one --squash keeps). */
async function lastBookmark(plan: Plan): Promise<{ group: number; seq: number } | undefined> {
  let last: { group: number; seq: number } | undefined;
  for await (const item of inputItems(plan, () => {})) {
    if (item.type === 'event' && item.event.type === 'bookmark') last = { group: item.group, seq: item.event.seq };
  }
  return last;
}
