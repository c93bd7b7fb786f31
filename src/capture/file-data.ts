// A regular file's content as write events: only its data extents (SEEK_DATA/SEEK_HOLE), so holes
// stay holes, in chunks of at most chunkSize bytes, each in a buffer no other event shares.
import { readSync } from 'node:fs';
import type { BufferPool } from './buffer-pool.js';
import { sys } from '../sys/native.js';
import type { EventInput, Path } from '../stream/events.js';

/** A data extent [start, end) of a file. */
export interface Extent {
  start: number;
  end: number;
}

const NO_SEEK_DATA = new Set(['EINVAL', 'ENOTSUP', 'EOPNOTSUPP']);

/** Files up to this size with at least as many bytes allocated are read whole, without SEEK_DATA. */
export const SMALL_DENSE = 64 * 1024;


/**
 * The data extents of an open file up to `size`; one extent for all of it where SEEK_DATA is not
 * supported. A small file with `allocated` (st_blocks * 512) ≥ size is taken as dense, saving two
 * lseeks per small file (a hole there is then read as zeros: the same content, only less sparse).
 */
export function* dataExtents(fd: number, size: number, allocated = 0): Generator<Extent> {
  if (size > 0 && size <= SMALL_DENSE && allocated >= size) {
    yield { start: 0, end: size };
    return;
  }
  let off = 0;
  while (off < size) {
    let start: number;
    try {
      start = sys.seekData(fd, off);
    } catch (err) {
      if (off === 0 && NO_SEEK_DATA.has((err as NodeJS.ErrnoException).code ?? '')) {
        yield { start: 0, end: size };
        return;
      }
      throw err;
    }
    if (start < 0 || start >= size) return;
    let end = sys.seekHole(fd, start);
    if (end < 0 || end > size) end = size;
    if (end <= start) return;
    yield { start, end };
    off = end;
  }
}

/** Reads until `buf` is full or the file ends; the number of bytes read. */
export function readFull(fd: number, buf: Buffer, position: number): number {
  let got = 0;
  while (got < buf.length) {
    const n = readSync(fd, buf, got, buf.length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got;
}

/** How dataEvents reads: chunk size, and bytes allocated to the file (see dataExtents). */
export interface ReadPlan {
  chunkSize: number;
  allocated?: number;
  /** Where read buffers come from (fresh memory when absent); see buffer-pool.ts. */
  pool?: BufferPool;
}

/**
 * Write events for the file's data up to `size`; returns the offset just past the last byte
 * written (less than expected when the file shrank while it was read: the caller's fstat sees that).
 */
export function* dataEvents(fd: number, path: Path, size: number, plan: ReadPlan): Generator<EventInput, number> {
  let written = 0;
  const { chunkSize } = plan;
  for (const { start, end } of dataExtents(fd, size, plan.allocated)) {
    for (let pos = start; pos < end; ) {
      const want = Math.min(chunkSize, end - pos);
      // The encoder references large payloads until they are written out: a pooled buffer comes
      // back only when the output has written it, else this is fresh memory.
      const buf = plan.pool?.take(want) ?? Buffer.allocUnsafe(want);
      const got = readFull(fd, buf, pos);
      if (got === 0) return written;
      yield { type: 'write', path, offset: pos, data: got < want ? buf.subarray(0, got) : buf };
      pos += got;
      written = pos;
      if (got < want) return written;
    }
  }
  return written;
}
