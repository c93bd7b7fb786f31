// Several inputs as one sequence of events. Inputs of one source and node are increments of one
// history: they are read in seq order (sorted by where each starts), a change set whose base lies
// beyond what was read before is a gap (refused), and events at or below the last seq read are
// duplicates of a re-sent segment (dropped, with a warning). Inputs of several nodes are merged by
// time, then node name, then seq (see rill-sort-merge(1), Several nodes); each keeps its own order.
import { randomUUID } from 'node:crypto';
import { RillError } from '../errors.js';
import { FORMAT_VERSION, MAGIC, type Event, type Header } from '../stream/events.js';
import type { HeaderInit } from '../stream/encode.js';
import { inputBatches } from './sources.js';

/** What the merge reads: a stream starting, or an event of input group `group`. */
export type InputItem = { type: 'stream'; header: Header } | { type: 'event'; event: Event; group: number };

/** The inputs of one source and node, in the order they are read. */
interface Group {
  source: string;
  node: string;
  inputs: string[];
}

/** How the inputs are read, and the output header they make (undefined: the first header read says). */
export interface Plan {
  groups: Group[];
  multi: boolean;
  header: Omit<HeaderInit, 'full' | 'base'> | undefined;
}

/** The first header of an input and the seq it starts after. */
async function peek(name: string): Promise<{ header: Header; start: number }> {
  const it = inputBatches(name, () => {})[Symbol.asyncIterator]();
  try {
    let header: Header | undefined;
    for (let r = await it.next(); !r.done; r = await it.next()) {
      for (const rec of r.value) {
        if (rec.type === 'header') header ??= rec;
        else if (header !== undefined) {
          const seq = rec.type === 'end' ? (rec.lastSeq ?? -1) : rec.seq - 0.5;
          return { header, start: header.base ?? seq };
        }
      }
    }
    throw new RillError('stream', `${name} holds no stream`, { input: name });
  } finally {
    await it.return?.(undefined);
  }
}

/** Reads the inputs' headers and decides the order and grouping (stdin, '-', is read in the order given). */
export async function planInputs(names: string[], allowMultipleSources: boolean): Promise<Plan> {
  if (names.length === 0 || names.includes('-')) return { groups: [{ source: '', node: '', inputs: names.length === 0 ? ['-'] : names }], multi: false, header: undefined };
  // One at a time: each reader takes two buffers of 4 MiB while it is open (an inbox has hundreds of files).
  const peeked: { name: string; i: number; header: Header; start: number }[] = [];
  for (const [i, name] of names.entries()) peeked.push({ name, i, ...(await peek(name)) });
  const groups = new Map<string, Group & { starts: { name: string; start: number; i: number }[] }>();
  for (const p of peeked) {
    const key = `${p.header.source}\0${p.header.node}`;
    let g = groups.get(key);
    if (g === undefined) groups.set(key, (g = { source: p.header.source, node: p.header.node, inputs: [], starts: [] }));
    g.starts.push({ name: p.name, start: p.start, i: p.i });
  }
  const first = peeked[0]!.header;
  for (const p of peeked) {
    if (p.header.kind !== first.kind) throw new RillError('mismatch', `${p.name} is a ${p.header.kind} stream, ${peeked[0]!.name} a ${first.kind} stream: they cannot be merged`, { input: p.name });
  }
  const sources = [...new Set(peeked.map((p) => p.header.source))];
  if (sources.length > 1 && !allowMultipleSources) {
    const list = peeked.map((p) => `${p.name} (source ${p.header.source}, node ${p.header.node})`).join(', ');
    throw new RillError('mismatch', `the inputs come from ${sources.length} sources: ${list}`, {
      hint: 'merge the streams of one source at a time, or pass --allow-multiple-sources to merge them by time into a stream of a new source',
    });
  }
  const multi = groups.size > 1;
  const full = peeked.find((p) => p.header.full === true);
  if (multi && full !== undefined) {
    throw new RillError('mismatch', `${full.name} is a full stream: it can be merged only with increments of its own source and node`, { input: full.name });
  }
  for (const g of groups.values()) g.inputs = g.starts.sort((a, b) => a.start - b.start || a.i - b.i).map((s) => s.name);
  const ordered = [...groups.values()].map(({ source, node, inputs }) => ({ source, node, inputs }));
  const header = {
    source: sources.length > 1 ? randomUUID() : first.source,
    node: [...new Set(ordered.map((g) => g.node))].sort().join(','),
    kind: first.kind,
    root: first.root,
    created: 0n,
  };
  return { groups: ordered, multi, header };
}

/** The events of one group in order: gaps refused, duplicates dropped. */
async function* chain(g: Group, group: number, multi: boolean, warn: (m: string) => void): AsyncGenerator<InputItem> {
  let last: number | undefined;
  let lastInput = '';
  let known: Header | undefined;
  for (const input of g.inputs) {
    const name = input === '-' ? 'stdin' : input;
    let dropped = 0;
    for await (const batch of inputBatches(input, warn)) {
      for (const rec of batch) {
        if (rec.type === 'header') {
          if (known !== undefined && (rec.source !== known.source || rec.kind !== known.kind)) {
            throw new RillError('mismatch', `${name}: a stream of source ${rec.source} follows one of source ${known.source}`, { input: name, hint: 'give each source its own file' });
          }
          if (multi && rec.full === true) throw new RillError('mismatch', `${name}: a full stream cannot be merged with the streams of other nodes`, { input: name });
          if (rec.base !== undefined && last !== undefined && rec.base > last) {
            throw new RillError('mismatch', `seq ${last + 1}..${rec.base} of source ${rec.source} (node ${rec.node}) are missing: ${lastInput || name} ends at seq ${last}, ${name} is a change set on top of seq ${rec.base}`, {
              input: name,
              hint: 'add the inputs that hold the missing seqs, or start from a full stream',
            });
          }
          known ??= rec;
          yield { type: 'stream', header: rec };
        } else if (rec.type !== 'end') {
          if (last !== undefined && rec.seq <= last) {
            dropped++;
            continue;
          }
          last = rec.seq;
          yield { type: 'event', event: rec, group };
        }
      }
    }
    if (dropped > 0) warn(`${name}: ${dropped} events at or below seq ${last} were read before${lastInput ? ` (from ${lastInput})` : ''}: a re-sent segment, dropped`);
    lastInput = name;
  }
}

/** Every input event in merge order (a stream item before the events of each stream of a single group). */
export async function* inputItems(plan: Plan, warn: (m: string) => void): AsyncGenerator<InputItem> {
  const chains = plan.groups.map((g, i) => chain(g, i, plan.multi, warn));
  if (chains.length === 1) return yield* chains[0]!;
  const heads: ({ event: Event; time: bigint; node: string } | undefined)[] = [];
  const times = plan.groups.map(() => 0n);
  const advance = async (i: number): Promise<InputItem | undefined> => {
    for (let r = await chains[i]!.next(); !r.done; r = await chains[i]!.next()) {
      if (r.value.type !== 'event') continue;
      times[i] = r.value.event.time ?? times[i]!;
      heads[i] = { event: r.value.event, time: times[i]!, node: plan.groups[i]!.node };
      return r.value;
    }
    heads[i] = undefined;
    return undefined;
  };
  for (let i = 0; i < chains.length; i++) await advance(i);
  yield { type: 'stream', header: { type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...plan.header! } };
  for (;;) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) if (heads[i] !== undefined && (best < 0 || before(heads[i]!, heads[best]!))) best = i;
    if (best < 0) return;
    yield { type: 'event', event: heads[best]!.event, group: best };
    await advance(best);
  }
}

/** Merge order of two nodes' next events: time, then node name, then seq. */
function before(a: { event: Event; time: bigint; node: string }, b: { event: Event; time: bigint; node: string }): boolean {
  if (a.time !== b.time) return a.time < b.time;
  if (a.node !== b.node) return a.node < b.node;
  return a.event.seq < b.event.seq;
}
