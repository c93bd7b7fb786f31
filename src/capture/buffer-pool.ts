// Read buffers that come back once the bytes in them have left the process: capture reads file data
// into them, the encoder references them in frames, and the output sink releases each one after its
// write completed. Reuse avoids faulting in fresh memory for every chunk read. A buffer that is never
// released (its bytes were copied, not referenced) is simply garbage-collected: nothing leaks.

export class BufferPool {
  private readonly free: Buffer[] = [];
  /** Pool buffers by their memory, so any view of one can be released. */
  private readonly owners = new WeakMap<ArrayBufferLike, Buffer>();

  constructor(
    /** Size of every pool buffer; larger requests are served with fresh memory. */
    readonly size: number,
    /** Free buffers kept at most. */
    private readonly keep = 64,
  ) {}

  /** A buffer of n bytes, from the pool when n fits. */
  take(n: number): Buffer {
    if (n > this.size) return Buffer.allocUnsafe(n);
    let buf = this.free.pop();
    if (buf === undefined) {
      buf = Buffer.allocUnsafeSlow(this.size); // its own memory: identifies it on release
      this.owners.set(buf.buffer, buf);
    }
    return buf.subarray(0, n);
  }

  /** Gives a buffer back once nothing refers to its bytes any more; other buffers are ignored. */
  release(view: Buffer): void {
    const owner = this.owners.get(view.buffer);
    if (owner !== undefined && this.free.length < this.keep && !this.free.includes(owner)) this.free.push(owner);
  }
}
