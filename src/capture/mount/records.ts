// The native layer's records (native/fuse/rillfs.h documents the byte format) decoded from the
// pipe's bytes. Byte handling only: no file-system access, no stream vocabulary.
import { ArenaPool } from './arena.js';
import type { PayloadRing } from './ring.js';

/** Record kinds, numbered as in rillfs.h's enum rec_op. */
export const REC = {
  mkdir: 1, create: 2, write: 3, truncate: 4, punch: 5, symlink: 6, link: 7, mknod: 8, rename: 9, unlink: 10,
  rmdir: 11, chmod: 12, chown: 13, utimes: 14, setxattr: 15, removexattr: 16, commit: 17, mark: 18, ready: 19, lost: 20,
} as const;

export const FIXED = 40;
/** WRITE flag: the data is in the payload ring (position in field c, length in b; ring.ts). */
export const F_RING = 0x4000;

/** One record as the native layer wrote it. */
export interface NativeRecord {
  op: number;
  flags: number;
  /** CLOCK_REALTIME ns when recorded. */
  time: bigint;
  a: bigint;
  b: bigint;
  /** Paths, symlink targets and xattr names, as bytes. */
  strs: Buffer[];
  /** Write data or an xattr value: a view of the bytes read from the pipe (RecordArena's memory is reused only once the output has written what came before: arena.ts; RecordDecoder's never), or of the payload ring (reused once written: ring.ts). */
  payload: Buffer;
}

/**
 * Why: the pipe delivers bytes in arbitrary pieces; this cuts them into whole records. Records that
 * lie within one piece are views of it (no copy); only a record cut across pieces is joined, once,
 * when its last piece arrives.
 */
export class RecordDecoder {
  /** Pieces of the record cut across reads (never holds the start of a second record). */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** That record's length, once its first 4 bytes are in (0 before). */
  private len = 0;

  /** ring: where WRITE records with F_RING have their data. */
  constructor(private readonly ring?: PayloadRing) {}

  /** Whole records in these bytes (and the ones before them); an incomplete tail waits for the next push. */
  push(chunk: Buffer): NativeRecord[] {
    const out: NativeRecord[] = [];
    let at = 0;
    if (this.pendingBytes > 0) {
      // complete the record begun in earlier pieces with as few bytes of this one as it needs
      if (this.len === 0) {
        const take = Math.min(4 - this.pendingBytes, chunk.length);
        this.pending.push(chunk.subarray(0, take));
        this.pendingBytes += take;
        at = take;
        if (this.pendingBytes < 4) return out;
        const head = Buffer.concat(this.pending, this.pendingBytes);
        this.pending = [head];
        this.len = lengthAt(head, 0, 0);
      }
      const take = Math.min(this.len - this.pendingBytes, chunk.length - at);
      this.pending.push(chunk.subarray(at, at + take));
      this.pendingBytes += take;
      at += take;
      if (this.pendingBytes < this.len) return out;
      out.push(parse(Buffer.concat(this.pending, this.pendingBytes), this.ring));
      this.pending = [];
      this.pendingBytes = 0;
      this.len = 0;
    }
    while (chunk.length - at >= 4) {
      const len = lengthAt(chunk, at, this.pendingBytes);
      if (chunk.length - at < len) break;
      out.push(parse(chunk.subarray(at, at + len), this.ring));
      at += len;
    }
    if (at < chunk.length) {
      this.pending = [chunk.subarray(at)];
      this.pendingBytes = chunk.length - at;
      if (this.pendingBytes >= 4) this.len = lengthAt(chunk, at, 0);
    }
    return out;
  }

  /** Bytes of an incomplete record left when the pipe ended (0: it ended cleanly). */
  get leftover(): number {
    return this.pendingBytes;
  }
}

/** Bytes of each arena RecordArena reads into (records are views of it; arena.ts says when it is reused). */
const ARENA_BYTES = 8 * 1024 * 1024;
/** At a record boundary with less room than this left, the next read goes into a new arena (records of the layer are at most 1 MiB of data plus names). */
const ARENA_MIN_ROOM = 1024 * 1024 + 64 * 1024;

/**
 * Why: reading the record channel in 64 KiB pieces and joining them into 1 MiB records cost a
 * memmove of every byte (and a read per 64 KiB). This hands out the free room of a large arena to
 * read into (space()), so whole records arrive in place and are views of the arena without a join.
 * A read that ends inside a record is followed by one that ends exactly at that record's end, so
 * the next arena begins at a record boundary; a record is copied (its received part, once) only
 * when it alone is larger than the room left.
 */
/** The most one read of the channel takes (see space()). */
const READ_MAX = 1024 * 1024;

export class RecordArena {
  private arena: Buffer;
  private view: DataView;
  /** Start of the first record not yet cut (whole records before it were handed out). */
  private start = 0;
  /** End of the bytes read into the arena. */
  private end = 0;
  /** Bytes handed out before this arena (for messages). */
  private base = 0;

  /** pool: where arenas come from and go back to once the output wrote them (arena.ts); ring: where WRITE records with F_RING have their data. */
  constructor(private readonly pool = new ArenaPool(ARENA_BYTES), private readonly ring?: PayloadRing) {
    this.arena = pool.take();
    this.view = new DataView(this.arena.buffer, this.arena.byteOffset, this.arena.length);
  }

  /**
   * Where the next read goes: the arena's free room (up to the end of a record begun, when its length
   * is known), at most READ_MAX. The cap matters: a read of a Unix socket goes on taking what a
   * writer adds meanwhile, so a read into 8 MiB of room took up to 8 MiB of changes in one go,
   * past the read-ahead limit (a full journal then lost that much).
   */
  space(): Buffer {
    const have = this.end - this.start;
    if (have === 0) {
      if (this.arena.length - this.end < ARENA_MIN_ROOM) this.renew(this.pool.arenaBytes);
      return this.room(this.arena.length);
    }
    if (have < 4) {
      if (this.arena.length - this.start < 64 * 1024) this.renew(this.pool.arenaBytes);
      return this.room(this.arena.length);
    }
    const len = lengthAt(this.arena, this.start, this.base);
    if (this.start + len > this.arena.length) this.renew(Math.max(this.pool.arenaBytes, len + ARENA_MIN_ROOM));
    return this.room(this.start + len);
  }

  private room(until: number): Buffer {
    return this.arena.subarray(this.end, Math.min(until, this.end + READ_MAX));
  }

  /** n bytes were read into the buffer space() gave; returns the records they completed. */
  filled(n: number): NativeRecord[] {
    this.end += n;
    const out: NativeRecord[] = [];
    const { arena: buf, view } = this;
    let at = this.start;
    while (this.end - at >= 4) {
      const len = view.getUint32(at, true);
      if (len < FIXED) lengthAt(buf, at, this.base); // throws, saying where
      if (this.end - at < len) break;
      out.push(parseIn(buf, view, at, len, this.ring));
      at += len;
    }
    this.start = at;
    return out;
  }

  /** Bytes of an incomplete record (0: the channel is at a record boundary). */
  get leftover(): number {
    return this.end - this.start;
  }

  /** Moves to a new arena of size bytes, carrying the part of a record begun. */
  private renew(size: number): void {
    const next = size <= this.pool.arenaBytes ? this.pool.take() : Buffer.allocUnsafeSlow(size);
    const have = this.end - this.start;
    if (have > 0) this.arena.copy(next, 0, this.start, this.end);
    this.pool.retire(this.arena);
    this.base += this.start;
    this.arena = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.length);
    this.start = 0;
    this.end = have;
  }
}

/** The length of the record at buf[at], checked against the fixed part (pos: its place in the byte stream, for the message). */
function lengthAt(buf: Buffer, at: number, pos: number): number {
  const len = buf.readUInt32LE(at);
  if (len < FIXED) throw new Error(`native record at byte ${at + pos} claims ${len} bytes, fewer than its ${FIXED}-byte fixed part`);
  return len;
}

function parse(r: Buffer, ring: PayloadRing | undefined): NativeRecord {
  return parseIn(r, new DataView(r.buffer, r.byteOffset, r.length), 0, r.length, ring);
}

/** The record of len bytes at buf[start] (view: a DataView of buf's bytes); strings and payload are views of buf. */
function parseIn(buf: Buffer, view: DataView, start: number, len: number, ring: PayloadRing | undefined): NativeRecord {
  const end = start + len;
  const nstr = buf[start + 5]!;
  const strs: Buffer[] = [];
  let at = start + FIXED;
  for (let i = 0; i < nstr && at + 4 <= end; i++) {
    const n = view.getUint32(at, true);
    strs.push(buf.subarray(at + 4, at + 4 + n));
    at += 4 + n;
  }
  if (at > end || strs.length < nstr) throw new Error(`native record of ${len} bytes holds strings past its end`);
  const op = buf[start + 4]!;
  const flags = view.getUint16(start + 6, true);
  const b = view.getBigUint64(start + 24, true);
  let payload: Buffer;
  if ((flags & F_RING) !== 0 && op === REC.write) {
    if (ring === undefined) throw new Error('native WRITE record has its data in a payload ring, but there is none');
    if (at !== end) throw new Error(`native WRITE record with its data in the payload ring carries ${end - at} bytes more`);
    payload = ring.payload(Number(view.getBigUint64(start + 32, true)), Number(b));
  } else {
    payload = buf.subarray(at, end);
  }
  // DataView's 64-bit reads make one bigint each (Buffer#readBigUInt64LE makes four)
  return { op, flags, time: view.getBigUint64(start + 8, true), a: view.getBigUint64(start + 16, true), b, strs, payload };
}
