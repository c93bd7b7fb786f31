// Inode number → manifest record references, in typed arrays (16 bytes an entry, no object per
// entry), so an incremental scan of millions of files finds any entry's counterpart by inode.
import type { RecordRef } from './state-file.js';

export class InodeIndex {
  private inos = new Float64Array(1024);
  private refs = new Float64Array(1024);
  private n = 0;
  private sorted = true;

  add(ino: number, ref: RecordRef): void {
    if (this.n === this.inos.length) {
      const grow = (a: Float64Array<ArrayBuffer>): Float64Array<ArrayBuffer> => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.inos = grow(this.inos);
      this.refs = grow(this.refs);
    }
    if (this.n > 0 && ino < this.inos[this.n - 1]!) this.sorted = false;
    this.inos[this.n] = ino;
    this.refs[this.n++] = ref;
  }

  get size(): number {
    return this.n;
  }

  /** Sorts by inode (once, after the last add). */
  seal(): void {
    if (this.sorted) return;
    const order = new Uint32Array(this.n);
    for (let i = 0; i < this.n; i++) order[i] = i;
    const inos = this.inos;
    order.sort((a, b) => inos[a]! - inos[b]! || a - b);
    const i2 = new Float64Array(this.n);
    const r2 = new Float64Array(this.n);
    for (let i = 0; i < this.n; i++) {
      i2[i] = inos[order[i]!]!;
      r2[i] = this.refs[order[i]!]!;
    }
    this.inos = i2;
    this.refs = r2;
    this.sorted = true;
  }

  /** References of every record with this inode number (in the order added). */
  lookup(ino: number): RecordRef[] {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.inos[mid]! < ino) lo = mid + 1;
      else hi = mid;
    }
    const out: RecordRef[] = [];
    for (let i = lo; i < this.n && this.inos[i] === ino; i++) out.push(this.refs[i]!);
    return out;
  }
}
