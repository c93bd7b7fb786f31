// Hard links: the first name of a multiply-linked inode is captured in full, later names become link
// events to it. Only inodes with nlink > 1 are remembered, and each is forgotten once all its names
// were seen, so memory follows the links still pending, not the size of the tree.
import type { BigIntStats } from 'node:fs';
import type { Path } from '../stream/events.js';

interface Pending {
  first: Path;
  /** Names not seen yet. */
  remaining: bigint;
}

/** (dev, ino) → the first captured name, for inodes that have more names to come. */
export class HardLinks {
  private readonly seen = new Map<string, Pending>();

  /** The first name of this inode when one was captured already (and counts this name as seen). */
  firstName(st: BigIntStats): Path | undefined {
    if (st.nlink < 2n) return undefined;
    const key = `${st.dev}:${st.ino}`;
    const p = this.seen.get(key);
    if (p === undefined) return undefined;
    if (--p.remaining <= 0n) this.seen.delete(key);
    return p.first;
  }

  /** Records a fully captured first name (call only once its events were emitted without trouble). */
  remember(st: BigIntStats, path: Path): void {
    if (st.nlink < 2n) return;
    this.seen.set(`${st.dev}:${st.ino}`, { first: path, remaining: st.nlink - 1n });
  }

  /** Inodes still waiting for more names. */
  get size(): number {
    return this.seen.size;
  }
}
