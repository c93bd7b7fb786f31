// A queue of incoming chunks that hands out contiguous views without re-copying on every read.

export class ByteQueue {
  private chunks: Buffer[] = [];
  /** Bytes queued. */
  length = 0;

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.chunks.push(chunk);
    this.length += chunk.length;
  }

  /**
   * The first n bytes (n <= length) as one buffer. Only when they straddle chunks are those n bytes
   * (and no more) copied into a buffer of their own, which then replaces them in the queue.
   */
  peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    const merged = Buffer.allocUnsafe(n);
    let off = 0;
    let k = 0;
    while (off < n) {
      const c = this.chunks[k]!;
      const take = Math.min(c.length, n - off);
      c.copy(merged, off, 0, take);
      off += take;
      if (take < c.length) {
        this.chunks[k] = c.subarray(take);
        break;
      }
      k++;
    }
    this.chunks.splice(0, k, merged);
    return merged;
  }

  /** Drops the first n bytes. */
  skip(n: number): void {
    this.length -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        n -= first.length;
        this.chunks.shift();
      } else {
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }
}
