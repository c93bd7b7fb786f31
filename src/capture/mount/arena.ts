// Reuse of the arenas the record channel is read into (records.ts RecordArena). Records are views
// of an arena, and write payloads stay referenced until the output has written them, so an arena
// may be reused only after that. The output writes in the order records were read: once a piece
// of arena n has been written, everything read before arena n has been written too, so arenas
// older than n are free.
//
// Why reuse at all: new memory is expensive to touch (page faults; on the 2-core VM measured, more
// so than the old join of 64 KiB reads: crc32 over freshly read arenas took 28% of node's samples
// instead of 6%, likely cache and TLB misses on pages just faulted in): reading 1 GiB of 1 MiB
// records into fresh 8 MiB arenas cost about 2.5 times the CPU of reading it into reused ones.

import { anyRing, ringOf } from './ring.js';

/** Arenas kept for reuse at most (idle memory: this many times the arena size). */
const FREE_MAX = 3;
/** Retired arenas tracked at most: beyond it the oldest is left to the garbage collector (an output that never reports). */
const RETIRED_MAX = 8;

interface Owner {
  pool: ArenaPool;
  /** The arena's number: it was the current arena n-th in this pool's order. */
  n: number;
}

/** Which pool, and in which turn, an arena's memory was last handed out (by its ArrayBuffer). */
const owners = new WeakMap<ArrayBufferLike, Owner>();

/** Why: one channel's arenas in their order, and those known to be free again. */
export class ArenaPool {
  private next = 0;
  private readonly retired: { buf: Buffer; n: number }[] = [];
  private readonly free: Buffer[] = [];

  constructor(readonly arenaBytes: number) {}

  /** An arena of arenaBytes to read into (a reused one when one is free). */
  take(): Buffer {
    const buf = this.free.pop() ?? Buffer.allocUnsafeSlow(this.arenaBytes);
    owners.set(buf.buffer, { pool: this, n: this.next++ });
    return buf;
  }

  /** The reader has moved on from buf: it is free once a piece of a later arena has been written. */
  retire(buf: Buffer): void {
    const o = owners.get(buf.buffer);
    if (o === undefined || o.pool !== this || buf.length !== this.arenaBytes) return;
    this.retired.push({ buf, n: o.n });
    if (this.retired.length > RETIRED_MAX) owners.delete(this.retired.shift()!.buf.buffer);
  }

  /** Pieces of arena n have been written: arenas before n are free (arenaPiecesWritten calls this). */
  release(n: number): void {
    while (this.retired.length > 0 && this.retired[0]!.n < n) {
      const { buf } = this.retired.shift()!;
      if (this.free.length < FREE_MAX) this.free.push(buf);
      else owners.delete(buf.buffer);
    }
  }

  /** Arenas kept for reuse (for tests). */
  get freeCount(): number {
    return this.free.length;
  }
}

/**
 * The output has written these pieces (in the order they were produced): frees the arenas older
 * than the newest arena any of them is a view of, and the payload ring's room up to the newest ring
 * piece among them (ring.ts). Pieces that are neither's are ignored. (One output carries one
 * channel's records: the newest piece speaks for its pool.)
 */
export function arenaPiecesWritten(pieces: readonly Uint8Array[]): void {
  let arenaDone = false;
  let ringDone = !anyRing();
  for (let i = pieces.length - 1; i >= 0 && !(arenaDone && ringDone); i--) {
    const p = pieces[i]!;
    if (!arenaDone) {
      const o = owners.get(p.buffer);
      if (o !== undefined) {
        o.pool.release(o.n);
        arenaDone = true;
        continue;
      }
    }
    if (!ringDone) {
      const ring = ringOf(p);
      if (ring !== undefined) {
        ring.written(p);
        ringDone = true;
      }
    }
  }
}
