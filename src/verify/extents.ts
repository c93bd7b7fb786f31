// Sparseness: the data extents of an open regular file, found with SEEK_DATA/SEEK_HOLE, compared as
// lists of [start, end) ranges without holding either list (a file may have millions of extents).
import { sys } from '../sys/native.js';
import { SPARSE_SHOWN, type Difference, type Extent } from './difference.js';

/** The data extents of a file of `size` bytes, in order; why: holes are part of what replay reproduces. */
export function* dataExtents(fd: number, size: number): Generator<Extent> {
  let offset = 0;
  while (offset < size) {
    const start = nextData(fd, offset, size);
    if (start >= size) return;
    let end: number;
    try {
      end = sys.seekHole(fd, start);
    } catch {
      end = size; // a file system without SEEK_HOLE: all data
    }
    if (end < 0 || end > size) end = size;
    if (end <= start) return;
    yield [start, end];
    offset = end;
  }
}

/** The next data offset at or after `offset`, `size` when only holes remain; why: content reads skip holes. */
export function nextData(fd: number, offset: number, size: number): number {
  let at: number;
  try {
    at = sys.seekData(fd, offset);
  } catch {
    return offset; // a file system without SEEK_DATA: treat all as data
  }
  return at < 0 || at > size ? size : at;
}

/** Compares the extent lists of two files of the same size; the first SPARSE_SHOWN extents of each go in the report. */
export function compareExtents(rel: string, fdA: number, fdB: number, size: number): Difference | undefined {
  const a = dataExtents(fdA, size);
  const b = dataExtents(fdB, size);
  for (;;) {
    const x = a.next();
    const y = b.next();
    if (x.done && y.done) return undefined;
    if (x.done || y.done || x.value[0] !== y.value[0] || x.value[1] !== y.value[1]) break;
  }
  const listA = firstExtents(fdA, size);
  const listB = firstExtents(fdB, size);
  return { kind: 'sparse', path: rel, a: listA.list, b: listB.list, truncated: listA.more || listB.more };
}

function firstExtents(fd: number, size: number): { list: Extent[]; more: boolean } {
  const list: Extent[] = [];
  for (const e of dataExtents(fd, size)) {
    if (list.length === SPARSE_SHOWN) return { list, more: true };
    list.push(e);
  }
  return { list, more: false };
}
