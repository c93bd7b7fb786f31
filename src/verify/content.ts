// Regular-file contents of both sides (files above SMALL_FILE; small-file.ts does the rest): opened once
// each, data extents compared (sparseness), then the bytes read in 1 MiB chunks from A and B concurrently,
// skipping ranges that are holes on both sides, stopping at the first differing chunk.
import { constants, promises as fsp } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import type { Difference } from './difference.js';
import { fullPath, treeError, type TreeRoot } from './entry.js';
import { compareExtents, nextData } from './extents.js';

/** Bytes read from each side at once. */
export const CHUNK = 1 << 20;

/** Read-only, never through a symlink (a name swapped for a symlink mid-walk must not lead elsewhere). */
export const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW;

/** Opens without updating atime where permitted (O_NOATIME needs ownership or CAP_FOWNER). */
async function openQuietly(tree: TreeRoot, rel: string): Promise<FileHandle> {
  const path = fullPath(tree, rel);
  try {
    return await fsp.open(path, READ_FLAGS | constants.O_NOATIME);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw treeError('open', tree, rel, err);
  }
  try {
    return await fsp.open(path, READ_FLAGS);
  } catch (err) {
    throw treeError('open', tree, rel, err);
  }
}

/** Reads up to `length` bytes at `position`, retrying short reads; fewer only at end of file. */
async function readFull(fh: FileHandle, buf: Buffer, length: number, position: number, tree: TreeRoot, rel: string): Promise<number> {
  let done = 0;
  try {
    while (done < length) {
      const { bytesRead } = await fh.read(buf, done, length - done, position + done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
  } catch (err) {
    throw treeError('read', tree, rel, err);
  }
  return done;
}

/** Index of the first differing byte of two buffers known to differ within `length`; why: report the exact offset. */
export function firstDifference(a: Buffer, b: Buffer, length: number): number {
  let lo = 0;
  let hi = length;
  while (hi - lo > 64) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (a.subarray(lo, mid).equals(b.subarray(lo, mid))) lo = mid;
    else hi = mid;
  }
  while (lo < hi && a[lo] === b[lo]) lo++;
  return lo;
}

/** How far compareFiles goes; why: --no-sparse and --quiet reach into the per-file loop. */
export interface FileCheck {
  /** Compare data extents (sparseness). */
  sparse: boolean;
  /** Checked between chunks: stop early (e.g. --quiet saw a difference already). */
  signal?: AbortSignal;
}

/**
 * Compares two regular files of the same size: sparseness, then content. Why one function: each file is
 * opened once for both checks. Holes are skipped only where both sides have one, so the content check
 * stays exact with --no-sparse and across file systems that lay the same bytes out differently.
 */
export async function compareFiles(A: TreeRoot, B: TreeRoot, rel: string, size: number, check: FileCheck): Promise<Difference[]> {
  const [ha, hb] = await Promise.allSettled([openQuietly(A, rel), openQuietly(B, rel)]);
  try {
    if (ha.status === 'rejected') throw ha.reason;
    if (hb.status === 'rejected') throw hb.reason;
    const out: Difference[] = [];
    if (check.sparse) {
      const d = compareExtents(rel, ha.value.fd, hb.value.fd, size);
      if (d) out.push(d);
    }
    const offset = await firstDifferingByte(A, B, rel, ha.value, hb.value, size, check.signal);
    if (offset !== undefined) out.push({ kind: 'content', path: rel, offset });
    return out;
  } finally {
    await Promise.all([ha, hb].map((h) => (h.status === 'fulfilled' ? h.value.close() : undefined)));
  }
}

async function firstDifferingByte(
  A: TreeRoot, B: TreeRoot, rel: string, fa: FileHandle, fb: FileHandle, size: number, signal?: AbortSignal,
): Promise<number | undefined> {
  const bufA = Buffer.allocUnsafe(Math.min(CHUNK, size));
  const bufB = Buffer.allocUnsafe(Math.min(CHUNK, size));
  let position = 0;
  while (position < size && !signal?.aborted) {
    // A range that is a hole on both sides reads as zeros on both: skip to the nearer data.
    const start = Math.min(nextData(fa.fd, position, size), nextData(fb.fd, position, size));
    if (start >= size) return undefined;
    const length = Math.min(CHUNK, size - start);
    const [na, nb] = await Promise.all([readFull(fa, bufA, length, start, A, rel), readFull(fb, bufB, length, start, B, rel)]);
    const common = Math.min(na, nb);
    if (!bufA.subarray(0, common).equals(bufB.subarray(0, common))) return start + firstDifference(bufA, bufB, common);
    if (na !== nb) return start + common; // one file shrank under us
    if (na < length) return undefined; // both shrank alike: compared all there is
    position = start + length;
  }
  return undefined;
}
