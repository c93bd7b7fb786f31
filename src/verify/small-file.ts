// Small regular files, compared synchronously on the walk: for a file of a few KiB the thread-pool round
// trips of fs.promises (open, read, close on each side) cost several times the I/O itself, so files up to
// SMALL_FILE are opened, checked for sparseness and read in one go with plain system calls.
import { closeSync, constants, openSync, readSync } from 'node:fs';
import type { Difference } from './difference.js';
import { fullPath, treeError, type TreeRoot } from './entry.js';
import { compareExtents } from './extents.js';
import { firstDifference, READ_FLAGS } from './content.js';

/** Files up to this size are compared inline; larger ones in the parallel pool (content.ts). */
export const SMALL_FILE = 64 << 10;

const bufA = Buffer.alloc(SMALL_FILE);
const bufB = Buffer.alloc(SMALL_FILE);

/** Opens without updating atime where permitted (O_NOATIME needs ownership or CAP_FOWNER). */
function openQuietly(tree: TreeRoot, rel: string): number {
  const path = fullPath(tree, rel);
  try {
    return openSync(path, READ_FLAGS | constants.O_NOATIME);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw treeError('open', tree, rel, err);
  }
  try {
    return openSync(path, READ_FLAGS);
  } catch (err) {
    throw treeError('open', tree, rel, err);
  }
}

/** Reads up to `length` bytes from the start, retrying short reads; fewer only at end of file. */
function readAll(fd: number, buf: Buffer, length: number, tree: TreeRoot, rel: string): number {
  let done = 0;
  try {
    while (done < length) {
      const n = readSync(fd, buf, done, length - done, done);
      if (n === 0) break;
      done += n;
    }
  } catch (err) {
    throw treeError('read', tree, rel, err);
  }
  return done;
}

/** Sparseness and content of two files of the same size (at most SMALL_FILE); why: fast on many small files. */
export function compareSmallFiles(A: TreeRoot, B: TreeRoot, rel: string, size: number, sparse: boolean): Difference[] {
  const fa = openQuietly(A, rel);
  let fb = -1;
  try {
    fb = openQuietly(B, rel);
    const out: Difference[] = [];
    if (sparse) {
      const d = compareExtents(rel, fa, fb, size);
      if (d) out.push(d);
    }
    const na = readAll(fa, bufA, size, A, rel);
    const nb = readAll(fb, bufB, size, B, rel);
    const common = Math.min(na, nb);
    if (!bufA.subarray(0, common).equals(bufB.subarray(0, common))) {
      out.push({ kind: 'content', path: rel, offset: firstDifference(bufA, bufB, common) });
    } else if (na !== nb) {
      out.push({ kind: 'content', path: rel, offset: common }); // one file shrank under us
    }
    return out;
  } finally {
    closeSync(fa);
    if (fb >= 0) closeSync(fb);
  }
}
