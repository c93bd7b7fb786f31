// The payload ring: shared memory the native layer copies large write data into (its WRITE record
// on the channel says where; native/fuse/rillfs.h, "Payload ring"). A write's data is a view of the
// ring until the output has written it; then `consumed` moves past it and the layer may reuse the
// room. Why: through the socket the same bytes cost a copy in, a copy out and the kernel's buffers
// for them (sequential 1 MiB writes through the layer alone ran at half FUSE's speed).
import { closeSync } from 'node:fs';
import { sys } from '../../sys/native.js';

/** Header bytes before the data (rillfs.h RING_HEAD): u64 consumed at 0, u32 "the layer waits for room" at 8. */
export const RING_HEAD = 4096;
/** Data bytes of the ring (RILL_RING_BYTES overrides; 0: no ring, every payload inline). 4 MiB: four 1 MiB writes in flight; what lies there is, like the channel's contents, not yet in the journal. */
const RING_BYTES = 4 * 1024 * 1024;

/** Rings by their memory, for ringPiecesWritten. */
const rings = new Map<ArrayBufferLike, PayloadRing>();

/** Why: one ring's memory and the payloads handed out of it not yet written. */
export class PayloadRing {
  /** The memfd, until the layer has it (closeFd after spawn). */
  fd: number | undefined;
  private readonly mem: Buffer;
  private readonly memory: ArrayBuffer;
  readonly size: number;
  /** Payloads handed out, in order, not yet known written: [data offset, length, end position] triples from index `first`. */
  private out: number[] = [];
  private first = 0;
  /** End position of the last payload handed out. */
  private last = 0;
  private consumed = 0;
  /** Ends of payloads no event carries (filtered out): free once everything before them is. */
  private readonly drop = new Set<number>();

  private constructor(fd: number, memory: ArrayBuffer) {
    this.fd = fd;
    this.mem = Buffer.from(memory);
    this.memory = memory;
    this.size = memory.byteLength - RING_HEAD;
    rings.set(memory, this);
  }

  /** A new ring of the configured size, or undefined when there is to be none. */
  static create(env = process.env.RILL_RING_BYTES): PayloadRing | undefined {
    const bytes = env === undefined || env === '' ? RING_BYTES : Number(env);
    if (!Number.isSafeInteger(bytes) || bytes <= 0) return undefined;
    let made: { fd: number; memory: ArrayBuffer };
    try {
      made = sys.ringCreate(RING_HEAD + Math.max(bytes, 128 * 1024));
    } catch {
      return undefined; // no memfd here (or no memory for it): the channel carries all the data, as it did before the ring
    }
    return new PayloadRing(made.fd, made.memory);
  }

  closeFd(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  /** The payload of len bytes the layer put at position pos (its WRITE record came now, in order); throws when that cannot be. */
  payload(pos: number, len: number): Buffer {
    const at = pos % this.size;
    if (!Number.isSafeInteger(pos) || len <= 0 || at + len > this.size || pos < this.last || pos + len - this.consumed > this.size) {
      throw new Error(`native record points at ${len} bytes at position ${pos} of the payload ring, which cannot be (ring of ${this.size} bytes, last payload ended at ${this.last}, ${this.consumed} consumed)`);
    }
    this.last = pos + len;
    this.out.push(RING_HEAD + at, len, pos + len);
    return this.mem.subarray(RING_HEAD + at, RING_HEAD + at + len);
  }

  /** piece (a view of this ring) has been written: it and every payload before it are free. */
  written(piece: Uint8Array): void {
    if (piece.buffer !== this.memory) return;
    const start = piece.byteOffset;
    const end = start + piece.length;
    const out = this.out;
    let i = this.first;
    let freeTo = -1;
    for (; i < out.length; i += 3) {
      const s = out[i]!;
      const e = s + out[i + 1]!;
      if (start >= s && end <= e) {
        if (end === e) freeTo = i; // else only part of it was written: free what came before
        else freeTo = i - 3;
        break;
      }
    }
    if (i >= out.length) return; // not a payload out now (written twice, or not ours)
    if (freeTo >= this.first) {
      this.consumed = out[freeTo + 2]!;
      this.first = freeTo + 3;
      this.skipDropped();
      sys.ringRelease(this.memory, this.consumed);
    }
    if (this.first > 3000 && this.first * 2 > out.length) {
      this.out = out.slice(this.first);
      this.first = 0;
    }
  }


  /** payload (handed out by payload()) will never be written: its room is free once all before it is. */
  dropped(payload: Uint8Array): void {
    const out = this.out;
    for (let i = this.first; i < out.length; i += 3) {
      if (out[i] === payload.byteOffset && out[i + 1] === payload.length) {
        this.drop.add(out[i + 2]!);
        break;
      }
    }
    const before = this.consumed;
    this.skipDropped();
    if (this.consumed !== before) sys.ringRelease(this.memory, this.consumed);
  }

  private skipDropped(): void {
    while (this.first < this.out.length && this.drop.delete(this.out[this.first + 2]!)) {
      this.consumed = this.out[this.first + 2]!;
      this.first += 3;
    }
  }

  /** Payloads handed out and not yet written (for tests). */
  get pending(): number {
    return (this.out.length - this.first) / 3;
  }

  /** Forgets the ring (its memory goes with the last view). */
  dispose(): void {
    this.closeFd();
    rings.delete(this.mem.buffer);
  }
}

/** The ring piece is a view of, if any. */
export function ringOf(piece: Uint8Array): PayloadRing | undefined {
  return rings.size === 0 ? undefined : rings.get(piece.buffer);
}

export const anyRing = (): boolean => rings.size > 0;
