// Windows and parts. Coalescing happens within a window; a kept bookmark ends one (everything held
// and pending is emitted before it, so the output's tree at the bookmark is the input's), and so do
// a full stream starting and, to bound memory, a model grown too large. Events the model cannot
// follow end a window too, and pass as they are. A full stream's window is emitted as a full stream
// (full.ts); what follows it, as a change set on top of it: the output is one or more parts.
import { RillError } from '../errors.js';
import { dispatch, type BookmarkEvent, type Event, type Header } from '../stream/events.js';
import type { HeaderInit } from '../stream/encode.js';
import { RenameChain } from './chain.js';
import { coalesceHandlers } from './coalesce.js';
import { Ctx } from './context.js';
import { emitTree } from './full.js';
import { Confusion, unfollowable } from './identity.js';
import type { PartWriter } from './output.js';
import { SeqAssigner } from './seq.js';
import type { DataStore } from './store.js';

/** How a merge runs (inputs.ts and sort-merge.ts decide it). */
export interface MergerOptions {
  out: PartWriter;
  store: DataStore;
  /** Header fields every output part shares (undefined: those of the first input stream). */
  header: Omit<HeaderInit, 'full' | 'base'> | undefined;
  /** Several seq spaces (nodes or sources) are merged. */
  multi: boolean;
  /** Whether a bookmark ends a window (and is kept); a bookmark that does not is dropped. */
  isBarrier: (e: BookmarkEvent, group: number) => boolean;
  /** Nodes the model may make before a window is cut to bound memory. */
  maxNodes: number;
  warn: (message: string) => void;
}

/** Counts for --verbose. */
export interface MergeStats {
  events: number;
  windows: number;
  fallbacks: number;
  /** Renames saved by joining rename chains (chain.ts). */
  renamesJoined: number;
}

/** Takes the input streams' headers and events in order; writes the merged output. */
export class Merger {
  private ctx!: Ctx;
  private header: Omit<HeaderInit, 'full' | 'base'> | undefined;
  private readonly seqs: SeqAssigner;
  private part: { full?: boolean; base?: number } | undefined;
  private inputLast = -1;
  private readonly chain = new RenameChain();
  readonly stats: MergeStats = { events: 0, windows: 0, fallbacks: 0, renamesJoined: 0 };

  constructor(private readonly o: MergerOptions) {
    this.header = o.header;
    this.seqs = new SeqAssigner(o.multi);
  }

  /** An input stream starts. */
  async stream(h: Header): Promise<void> {
    if (this.part === undefined) {
      this.header ??= { source: h.source, node: h.node, kind: h.kind, root: h.root, created: 0n };
      this.ctx = new Ctx(this.o.store, this.header.kind);
      this.part = h.full === true && !this.o.multi ? { full: true } : h.base !== undefined && !this.o.multi ? { base: h.base } : {};
      if (this.part.base !== undefined) this.seqs.start(this.part.base);
      if (this.part.full === true) this.ctx.reset(true);
      return;
    }
    if (h.full !== true || this.o.multi) return;
    // A full stream replaces the tree: what came before is emitted, then it starts a part of its own.
    await this.endWindow(this.seqs.last);
    this.endPart();
    this.part = { full: true };
    this.ctx.reset(true);
  }

  /** An input event (of input group `group`). */
  async event(e: Event, group: number): Promise<void> {
    this.stats.events++;
    this.inputLast = Math.max(this.inputLast, e.seq);
    if (e.type === 'bookmark' && this.o.isBarrier(e, group)) return this.barrier(e);
    this.seqs.taken(e.seq);
    await this.pump(this.process(e));
    if (!this.ctx.collecting && this.ctx.ns.made > this.o.maxNodes) await this.endWindow(e.seq);
  }

  /** The end of the input: the last window, and the output ends on the input's last seq. */
  async finish(): Promise<void> {
    if (this.part === undefined) throw new RillError('stream', 'no stream in the input');
    if (this.ctx.collecting && this.stashUsed()) {
      throw new RillError('stream', 'the input ends with entries in .rill/stash (a change set cut short?): a full stream cannot hold them', {
        hint: 'merge up to a complete change set, or leave the full stream out',
      });
    }
    await this.endWindow(this.inputLast);
    this.emit(this.chain.flush());
    if (!this.o.multi && this.seqs.last < this.inputLast) this.put({ type: 'commit', seq: this.inputLast }, true);
    if (this.o.out.stats.streams === 0) this.openPart();
    this.endPart();
    this.stats.renamesJoined = this.chain.joined;
    await this.o.out.drain();
  }

  private *process(e: Event): Generator<Event> {
    try {
      yield* dispatch(coalesceHandlers, e, this.ctx);
    } catch (err) {
      if (!(err instanceof Confusion)) throw err;
      if (this.ctx.collecting) throw unfollowable(e, err.message);
      // Not followed: everything so far is emitted, then the event as it is, and the model starts afresh.
      this.stats.fallbacks++;
      yield* this.ctx.flushAll(e.seq);
      yield detached(e);
      this.ctx.reset(false);
    }
  }

  /** A kept bookmark: the window before it is emitted in full, then the bookmark with its own seq. */
  private async barrier(e: BookmarkEvent): Promise<void> {
    if (this.ctx.collecting && this.stashUsed()) {
      this.o.warn(`bookmark ${JSON.stringify(e.name)} (seq ${e.seq}) dropped: entries are in the stash there, which a full stream cannot hold`);
      this.seqs.taken(e.seq);
      return;
    }
    const full = this.ctx.collecting;
    await this.endWindow(e.seq);
    this.put(e, true);
    if (full) {
      this.endPart();
      this.part = { base: e.seq };
    }
  }

  /** Emits the window (the whole tree of a full stream's window) and starts a new one. */
  private async endWindow(seq: number): Promise<void> {
    await this.pump(this.ctx.collecting ? emitTree(this.ctx) : this.ctx.flushAll(seq));
    this.ctx.reset(false);
    this.stats.windows++;
  }

  private async pump(events: Iterable<Event>): Promise<void> {
    for (const e of events) {
      this.put(e, false);
      if (this.o.out.full) await this.o.out.drain();
    }
  }

  /** Ends the open part, after the rename chain held back. */
  private endPart(): void {
    this.emit(this.chain.flush());
    if (this.o.out.open) this.o.out.end();
  }

  /** Writes an event with its output seq (a barrier keeps its own); renames may be held back to join (chain.ts). */
  private put(e: Event, barrier: boolean): void {
    if (barrier) this.emit(this.chain.flush());
    else return this.emit(this.chain.take(e));
    this.write(e, true);
  }

  private emit(events: Event[]): void {
    for (const e of events) this.write(e, false);
  }

  private write(e: Event, barrier: boolean): void {
    if (!this.o.out.open) this.openPart();
    const seq = barrier ? this.seqs.barrier(e.seq) : this.seqs.next(e.seq);
    this.o.out.event(seq === e.seq ? e : ({ ...e, seq } as Event));
  }

  private openPart(): void {
    const p = this.part ?? {};
    this.o.out.header({ ...this.header!, created: BigInt(Date.now()) * 1_000_000n, ...p });
    this.part = {};
  }

  /** Entries are in .rill/stash (a change set is moving them). */
  private stashUsed(): boolean {
    const stash = this.ctx.ns.root.children?.get('.rill')?.node?.children?.get('stash')?.node;
    return stash !== undefined && this.ctx.ns.hasEntries(stash);
  }
}

/** An input event to hold past the next input batch: its buffers copied (the reader reuses its own). */
export function detached(e: Event): Event {
  if (e.type === 'write') return { ...e, data: Buffer.from(e.data) };
  if (e.type === 'setxattr') return { ...e, value: Buffer.from(e.value) };
  if (e.type === 'assert') return { ...e, hash: Buffer.from(e.hash) };
  return e;
}
