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

  /** The first n bytes (n <= length) as one buffer, merging chunks only when they must be. */
  peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    let have = 0;
    let k = 0;
    while (have < n) have += this.chunks[k++]!.length;
    const merged = Buffer.concat(this.chunks.slice(0, k), have);
    this.chunks.splice(0, k, merged);
    return merged.subarray(0, n);
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
