// The data of one file (one phase of it) held in memory: disjoint byte ranges in offset order, the
// last write of each byte winning. A rewrite of the same range replaces in place; an append is a
// push; only a write into the middle of many ranges moves the arrays.

/** Sorted, disjoint extents [start, end) with their bytes. */
export class ExtentMap {
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly bufs: Buffer[] = [];

  get size(): number {
    return this.starts.length;
  }

  /** Bytes held (sum of extent lengths). */
  get bytes(): number {
    let n = 0;
    for (const b of this.bufs) n += b.length;
    return n;
  }

  /** Writes data at offset: later bytes win over what they overlap. `data` is kept, not copied. */
  write(offset: number, data: Buffer): void {
    if (data.length === 0) return;
    const end = offset + data.length;
    const n = this.starts.length;
    if (n === 0 || offset >= this.ends[n - 1]!) {
      this.starts.push(offset);
      this.ends.push(end);
      this.bufs.push(data);
      return;
    }
    let i = this.firstEndingAfter(offset);
    let j = i;
    while (j < n && this.starts[j]! < end) j++;
    // Extents i..j-1 overlap [offset, end): keep the parts outside it.
    const keep: [number, number, Buffer][] = [];
    if (i < j && this.starts[i]! < offset) keep.push([this.starts[i]!, offset, this.bufs[i]!.subarray(0, offset - this.starts[i]!)]);
    keep.push([offset, end, data]);
    if (i < j && this.ends[j - 1]! > end) {
      const s = this.starts[j - 1]!;
      keep.push([end, this.ends[j - 1]!, this.bufs[j - 1]!.subarray(end - s)]);
    }
    if (keep.length === j - i) {
      for (const [s, e, b] of keep) (this.starts[i] = s), (this.ends[i] = e), (this.bufs[i++] = b);
      return;
    }
    this.starts.splice(i, j - i, ...keep.map((k) => k[0]));
    this.ends.splice(i, j - i, ...keep.map((k) => k[1]));
    this.bufs.splice(i, j - i, ...keep.map((k) => k[2]));
  }

  /** The buffer of the extent that is exactly [offset, offset + length), if there is one (a page rewritten in place). */
  exact(offset: number, length: number): Buffer | undefined {
    const i = this.firstEndingAfter(offset);
    return this.starts[i] === offset && this.ends[i] === offset + length ? this.bufs[i] : undefined;
  }

  /** Cuts everything at and beyond size (a truncate). */
  cut(size: number): void {
    let i = this.firstEndingAfter(size);
    if (i < this.starts.length && this.starts[i]! < size) {
      this.bufs[i] = this.bufs[i]!.subarray(0, size - this.starts[i]!);
      this.ends[i] = size;
      i++;
    }
    this.starts.length = i;
    this.ends.length = i;
    this.bufs.length = i;
  }

  /** Index of the first extent whose end is beyond offset. */
  private firstEndingAfter(offset: number): number {
    let lo = 0;
    let hi = this.ends.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.ends[mid]! <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
