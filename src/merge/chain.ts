// Rename chains of entries that existed before the window (a→b, then b→c) become one rename (a→c).
// Entries made in the window need none of this: they are held and made at their last name. Two
// renames are joined only when nothing was emitted between them, when b→c surely moves the entry, and
// when the output is sure to have nothing at the middle name afterwards: it was known to be free
// before a→b (a→c leaves it free), or the entry is a directory, which replaced at most an empty
// directory there (then an rmdir of the middle name follows the joined rename; replay takes an rmdir
// of nothing as done). A file never joins over or onto a name the window did not know: that may be
// another name of the same file (a hard link made before the window), where rename does nothing.
import type { Event, RenameEvent } from '../stream/events.js';

/** What the output has at a rename's destination once the renamed entry moves on: nothing, or maybe an empty directory. */
export type Middle = 'free' | 'maybe-dir';

/** What the coalescing knows of a rename it emits: whether it surely moves its entry, and what it leaves at its destination later. */
interface Known {
  /** The rename moves the entry (it is not a file renamed onto what may be another name of itself). */
  sure: boolean;
  middle: Middle | undefined;
}

const known = new WeakMap<RenameEvent, Known>();

/** Marks a rename the coalescing emits, for joining (a rename the input passes as it is is never joined). */
export function marked(e: RenameEvent, sure: boolean, middle: Middle | undefined): RenameEvent {
  const out = { ...e };
  known.set(out, { sure, middle });
  return out;
}

/** A rename waiting to see whether the next emitted event continues it. */
export class RenameChain {
  private held: RenameEvent | undefined;
  private middles: string[] = [];
  /** Renames saved by joining (for --verbose). */
  joined = 0;

  /** Takes an emitted event; returns the events to emit now, in order. */
  take(e: Event): Event[] {
    const h = this.held;
    const k = e.type === 'rename' ? known.get(e) : undefined;
    if (h !== undefined && e.type === 'rename' && k?.sure === true && e.path === h.to && !this.emptied(h, e.to)) {
      // The entry at h.to surely moves on: the output has what h's middle says there afterwards.
      if (known.get(h)!.middle === 'maybe-dir') this.middles.push(h.to);
      const joined: RenameEvent = { ...e, path: h.path };
      known.set(joined, k);
      this.joined++;
      this.held = joined;
      return k.middle === undefined ? this.flush() : []; // where it ends may not be a middle name
    }
    const out = this.flush();
    if (e.type === 'rename' && k?.middle !== undefined) this.held = e;
    else out.push(e);
    return out;
  }

  /**
   * True when `to` is a directory the chain emptied in the input but not in the output: an ancestor of
   * where it started (a→b moved the entry out), or of a middle name whose empty directory it replaced
   * (still there in the output until the rmdir after the joined rename).
   */
  private emptied(h: RenameEvent, to: string): boolean {
    const left = [h.path, ...this.middles, ...(known.get(h)!.middle === 'maybe-dir' ? [h.to] : [])];
    return left.some((p) => p.startsWith(`${to}/`));
  }

  /** The held rename (dropped when it ends where it started) and the rmdir of middle names owed. */
  flush(): Event[] {
    const h = this.held;
    if (h === undefined) return [];
    this.held = undefined;
    const out: Event[] = h.path === h.to ? [] : [h];
    for (const path of this.middles) if (path !== h.to) out.push({ type: 'rmdir', path, seq: h.seq });
    this.middles = [];
    return out;
  }
}
