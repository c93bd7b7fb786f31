// Block deltas: a file or volume read once, hashed block by block (xxh64), and turned into the
// write and punch events that bring a copy with the old hashes up to date. Used by incremental tree
// scans (per regular file) and by volume mode (the whole file or device), so both agree exactly.
import xxhash from 'xxhash-wasm';
import type { EventInput, Path } from '../stream/events.js';
import type { BufferPool } from './buffer-pool.js';
import { dataExtents, readFull } from './file-data.js';

/** Bytes of one block hash in a manifest: xxh64, little-endian. */
export const HASH_BYTES = 8;
/** Default --block-size (see bench/README.md: the trade between state size and delta size). */
export const DEFAULT_BLOCK_SIZE = 64 * 1024;
/**
 * Default --block-size of a volume: 4 KiB, the unit guests and file systems write. In the 2 GiB
 * image benchmark its stream is 1.01 x the changed bytes (64 KiB: 15.8 x) in the same time, for a
 * state of 2 MiB per GiB.
 */
export const DEFAULT_VOLUME_BLOCK_SIZE = 4 * 1024;
export const MIN_BLOCK_SIZE = 512;

type Hasher = Awaited<ReturnType<typeof xxhash>>;
let hasher: Hasher | undefined;

/** Loads the WebAssembly hasher once; call before blockEvents (capture does at start-up). */
export async function loadHasher(): Promise<void> {
  hasher ??= await xxhash();
}

function h64(data: Uint8Array): bigint {
  if (hasher === undefined) throw new Error('loadHasher() was not awaited before hashing');
  return hasher.h64Raw(data);
}

/** xxh64 of data as HASH_BYTES bytes (little-endian), as manifests store it. */
export function hashBytes(data: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(HASH_BYTES);
  out.writeBigUInt64LE(h64(data));
  return out;
}

const zeroHashes = new Map<number, bigint>();
/** The hash of `length` zero bytes (a block inside a hole is not read). */
function zeroHash(length: number): bigint {
  let h = zeroHashes.get(length);
  if (h === undefined) zeroHashes.set(length, (h = h64(Buffer.alloc(length))));
  return h;
}

/**
 * Trees keep holes as holes, so a block's hash covers its hole layout too: a whole-hole block is
 * told apart from a block of written zeros, and a partly sparse block from a dense one with the
 * same bytes. (Volumes, zeroAsHole, hash bytes only: a zero block is a hole there.)
 */
const HOLE_TAG = 0x9e3779b97f4a7c15n;

let zeros = Buffer.alloc(0);
/** The block reads as all zeros (checked only when its hash is the zero block's). */
function isZero(view: Buffer): boolean {
  if (zeros.length < view.length) zeros = Buffer.alloc(view.length);
  return view.equals(zeros.subarray(0, view.length));
}

/** Number of blocks of a file of `size` bytes. */
export function blockCount(size: number, blockSize: number): number {
  return Math.ceil(size / blockSize);
}

/**
 * Old hashes looked up one block at a time, in increasing block order (volume mode streams them
 * from the state file beside the read instead of holding them all). `at` returns undefined for a
 * block whose content is unknown: it is written when it holds data and punched when it is a hole.
 */
export interface HashLookup {
  /** Blocks [0, blocks) are compared against `at`; blocks past it count as new. */
  blocks: number;
  at(block: number): bigint | undefined;
}

/** What the copy is known to hold: its size and the hash of each block (HASH_BYTES each). */
export interface KnownContent {
  size: number;
  hashes: Buffer | HashLookup;
}

export interface BlockPlan {
  blockSize: number;
  /** Largest data payload of one write event. */
  chunkSize: number;
  /** st_blocks * 512, to skip SEEK_DATA on small dense files (see dataExtents). */
  allocated?: number;
  /** Where read buffers come from; a buffer returns when the output wrote it. */
  pool?: BufferPool;
  /**
   * Receives each new hash in block order instead of the returned Buffer (which is then empty), so
   * a huge volume's hashes go to its state file as they are made (bounded memory).
   */
  onHash?: (block: number, hash: bigint) => void;
  /**
   * Treat a data block that reads as all zeros like a hole: punched when it changed, never written
   * (volume mode: a block device has no holes SEEK_DATA could report, and zeros need not travel).
   */
  zeroAsHole?: boolean;
}

/**
 * Reads fd's [0, size) once and yields events that turn a copy holding `old` into this content:
 * writes for blocks whose hash differs (runs of adjacent blocks merged, at most chunkSize each),
 * punches for blocks that became holes. Without `old` (a new file, empty copy) every data block is
 * written and holes are left alone. The caller emits the size change (truncate) when size differs
 * from old.size, and a new file's final truncate when it ends in a hole. Returns the new hashes.
 */
export function* blockEvents(fd: number, path: Path, size: number, plan: BlockPlan, old?: KnownContent): Generator<EventInput, Buffer> {
  const bs = plan.blockSize;
  const n = blockCount(size, bs);
  const onHash = plan.onHash;
  const hashes = Buffer.allocUnsafe(onHash === undefined ? n * HASH_BYTES : 0);
  const put = onHash ?? ((b: number, h: bigint): void => void hashes.writeBigUInt64LE(h, b * HASH_BYTES));
  const known = old?.hashes;
  const oldBlocks = known === undefined ? 0 : Buffer.isBuffer(known) ? Math.min(known.length / HASH_BYTES, blockCount(old!.size, bs)) : known.blocks;
  const differs = Buffer.isBuffer(known)
    ? (b: number, h: bigint): boolean => b >= oldBlocks || known.readBigUInt64LE(b * HASH_BYTES) !== h
    : (b: number, h: bigint): boolean => b >= oldBlocks || known!.at(b) !== h;
  const len = (b: number): number => Math.min(bs, size - b * bs);
  // A read unit is whole blocks, at least chunkSize bytes when chunks are larger than blocks.
  const unit = Math.max(bs, Math.floor(plan.chunkSize / bs) * bs);
  const zeroAsHole = plan.zeroAsHole === true;
  let next = 0; // first block not yet hashed
  let punchFrom = -1; // first block of a run of blocks to punch

  function* flushPunch(upTo: number): Generator<EventInput> {
    if (punchFrom < 0) return;
    const offset = punchFrom * bs;
    yield { type: 'punch', path, offset, length: Math.min(upTo * bs, size) - offset };
    punchFrom = -1;
  }

  /** Blocks [next, end) lie entirely in a hole. */
  function* holeBlocks(end: number): Generator<EventInput> {
    for (; next < end; next++) {
      const h = zeroAsHole ? zeroHash(len(next)) : zeroHash(len(next)) ^ HOLE_TAG;
      put(next, h);
      if (old !== undefined && next < oldBlocks && differs(next, h)) {
        if (punchFrom < 0) punchFrom = next;
      } else yield* flushPunch(next);
    }
    // A run still open here goes on into the next blocks (zero blocks, more holes) or ends there.
  }

  /** Blocks [next, end) are read, hashed, and the changed ones written. */
  function* dataBlocks(end: number): Generator<EventInput> {
    while (next < end) {
      const first = next;
      const last = Math.min(end, first + unit / bs); // exclusive
      const want = Math.min(last * bs, size) - first * bs;
      const buf = plan.pool?.take(want) ?? Buffer.allocUnsafe(want);
      const got = readFull(fd, buf, first * bs);
      if (got < want) buf.fill(0, got); // the file shrank while read: the caller's fstat sees that
      let runStart = -1;
      let shared = false; // buf is referenced by an event already: later runs get copies
      /** Blocks [from, to) changed: their data extents are written, holes inside them punched (holes stay holes). */
      function* emit(from: number, to: number): Generator<EventInput> {
        const a = from * bs;
        const b = Math.min(to * bs, size);
        let pos = a;
        for (const x of extents) {
          if (x.end <= pos) continue;
          if (x.start >= b) break;
          const s = Math.max(pos, x.start);
          const e = Math.min(b, x.end);
          if (s > pos && old !== undefined) yield { type: 'punch', path, offset: pos, length: s - pos };
          const view = buf.subarray(s - first * bs, e - first * bs);
          // A short run is copied: referencing it would pin the whole read buffer until its frame
          // is written, and scattered small changes would take a fresh read buffer each.
          const copy = shared || view.length * 4 < buf.length;
          yield { type: 'write', path, offset: s, data: copy ? Buffer.from(view) : view };
          if (!copy) shared = true;
          pos = e;
        }
        if (pos < b && old !== undefined) yield { type: 'punch', path, offset: pos, length: b - pos };
      }
      for (let b = first; b < last; b++) {
        const view = buf.subarray((b - first) * bs, (b - first) * bs + len(b));
        const h = zeroAsHole ? h64(view) : h64(view) ^ layoutTag(b);
        put(b, h);
        if (zeroAsHole && h === zeroHash(view.length) && isZero(view)) {
          if (runStart >= 0) {
            yield* emit(runStart, b);
            runStart = -1;
          }
          if (differs(b, h)) {
            if (punchFrom < 0) punchFrom = b;
          } else yield* flushPunch(b);
          continue;
        }
        yield* flushPunch(b);
        if (differs(b, h)) {
          if (runStart < 0) runStart = b;
        } else if (runStart >= 0) {
          yield* emit(runStart, b);
          runStart = -1;
        }
      }
      if (runStart >= 0) yield* emit(runStart, last);
      if (!shared) plan.pool?.release(buf);
      next = last;
    }
  }

  // The file's data extents, once: changed blocks write only their data (see emit).
  const extents = [...dataExtents(fd, size, plan.allocated)];
  let cursor = 0; // first extent that may overlap the block layoutTag is asked about

  /** 0 for a block inside one data extent, else a hash of where its data lies (never 0). */
  function layoutTag(b: number): bigint {
    const start = b * bs;
    const end = start + len(b);
    while (cursor < extents.length && extents[cursor]!.end <= start) cursor++;
    const first = extents[cursor];
    if (first !== undefined && first.start <= start && first.end >= end) return 0n;
    const pairs: number[] = [];
    for (let i = cursor; i < extents.length && extents[i]!.start < end; i++) {
      pairs.push(Math.max(start, extents[i]!.start) - start, Math.min(end, extents[i]!.end) - start);
    }
    return h64(new Uint8Array(new Float64Array(pairs).buffer)) | 1n;
  }
  for (const { start, end } of extents) {
    const firstData = Math.floor(start / bs);
    if (firstData > next) yield* holeBlocks(firstData);
    yield* dataBlocks(Math.max(next, Math.ceil(end / bs)));
  }
  yield* holeBlocks(n);
  yield* flushPunch(n);
  return hashes;
}
