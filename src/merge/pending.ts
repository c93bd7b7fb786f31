// The changes of one file waiting to be emitted, coalesced: the last chmod, chown, utimes and the last
// op on each xattr name, kept in the order of their last occurrence (so chown still comes after a
// setxattr it clears, utimes after the data it dates); and its data in phases. A phase is the writes
// between two truncates or punches (last writer wins among them), then those truncates (a run of them
// as two: to the smallest size, to the last) and punches, in order. Bytes a later truncate removed are
// cut, except within the 1 MiB that the truncate's size falls in: writes there decide whether the
// block the file then ends in holds data, which `rill verify` compares.
import type { Event, Ns, PunchEvent } from '../stream/events.js';
import { readPieces, type Piece } from './resolve.js';
import type { DataStore } from './store.js';

/** An emitted write carries at most this many bytes (more only when a single piece is larger). */
const WRITE_CAP = 1 << 20;
/** Writes are cut this far beyond a later truncate's size, rounded up (larger than any file system block). */
export const CUT_ALIGN = 1 << 20;

/** A truncate or a punch that ends a phase (consecutive truncates as one: smallest size, then last). */
export type TailOp = { type: 'truncate'; min: number; last: number; from: Event } | PunchEvent;

/** The data ops of one phase: its writes are in the store; then these, in order. */
export interface Phase {
  tail: TailOp[];
}

/** The pending changes of one file. */
export class Pending {
  /** Metadata by key ('mode', 'owner', 'times', 'x:NAME', and 'data' where the data goes), in order of last change. */
  readonly slots = new Map<string, Event>();
  readonly phases: Phase[] = [];

  /** A metadata op: replaces the previous one of its key and moves it last. */
  meta(key: string, e: Event): void {
    this.slots.delete(key);
    this.slots.set(key, e);
  }

  /** The phase a write goes to (a new one after a truncate or punch); marks where the data goes. */
  writePhase(e: Event): number {
    this.meta('data', e);
    const cur = this.phases[this.phases.length - 1];
    if (cur === undefined || cur.tail.length > 0) this.phases.push({ tail: [] });
    return this.phases.length - 1;
  }

  /** A truncate or punch ends the current phase (consecutive truncates merge); marks where the data goes. */
  endPhase(e: Event, op: TailOp): void {
    this.meta('data', e);
    if (this.phases.length === 0) this.phases.push({ tail: [] });
    const tail = this.phases[this.phases.length - 1]!.tail;
    const prev = tail[tail.length - 1];
    if (op.type === 'truncate' && prev?.type === 'truncate') {
      prev.min = Math.min(prev.min, op.min);
      prev.last = op.last;
      prev.from = op.from;
    } else tail.push(op);
  }
}

/** The seq and time an emitted event takes from the input event it stands for. */
export function stampOf(from: Event): { seq: number; time?: Ns } {
  return from.time === undefined ? { seq: from.seq } : { seq: from.seq, time: from.time };
}

/** A file's coalesced changes as events on path: metadata and data in the order of their last change. */
export function* emitPending(id: number, p: Pending, path: string, store: DataStore, skip?: (key: string) => boolean): Generator<Event> {
  for (const [key, e] of p.slots) {
    if (skip?.(key) === true) continue;
    if (key === 'data') yield* emitData(id, p, path, store, e);
    else yield { ...e, path } as Event;
  }
}

/** The data phases of a file as write, truncate and punch events. */
export function* emitData(id: number, p: Pending, path: string, store: DataStore, from: Event): Generator<Event> {
  const s = stampOf(from);
  for (let i = 0; i < p.phases.length; i++) {
    for (const run of writeRuns(store.pieces(id, i))) yield { type: 'write', path, offset: run[0]!.offset, data: readPieces(run), ...s };
    for (const op of p.phases[i]!.tail) {
      if (op.type === 'punch') yield { ...op, path };
      else {
        const t = stampOf(op.from);
        yield { type: 'truncate', path, size: op.min, ...t };
        if (op.last !== op.min) yield { type: 'truncate', path, size: op.last, ...t };
      }
    }
  }
}

/** Groups pieces into writes: adjacent pieces together, up to WRITE_CAP bytes (a larger piece alone). */
function* writeRuns(pieces: Piece[]): Generator<Piece[]> {
  let run: Piece[] = [];
  let bytes = 0;
  for (const p of pieces) {
    const last = run[run.length - 1];
    if (last !== undefined && (last.offset + last.length !== p.offset || bytes + p.length > WRITE_CAP)) {
      yield run;
      run = [];
      bytes = 0;
    }
    run.push(p);
    bytes += p.length;
  }
  if (run.length > 0) yield run;
}
