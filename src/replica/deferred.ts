// Directory metadata held back until the next commit or end, applied deepest first: times (creating
// children would disturb them) and, when not root, modes that would lock replay out (no u+wx).
import type { Ns } from '../stream/events.js';

/** What is owed to one directory. */
export interface DeferredDir {
  mode?: number;
  atime?: Ns;
  mtime?: Ns;
}

/** Past this many directories between commits, flush early (memory stays bounded). */
export const DEFERRED_LIMIT = 65_536;

/** The set of directories with metadata still to apply, keyed by root-relative Path. */
export class Deferred {
  private items = new Map<string, DeferredDir>();

  /** Number of directories waiting. */
  get size(): number {
    return this.items.size;
  }

  /** Owes a directory its times. */
  times(path: string, atime: Ns, mtime: Ns): void {
    const item = this.item(path);
    item.atime = atime;
    item.mtime = mtime;
  }

  /** Owes a directory its exact mode (or, with undefined, forgets an owed mode: a later chmod won). */
  mode(path: string, mode: number | undefined): void {
    if (mode !== undefined) this.item(path).mode = mode;
    else if (this.items.has(path)) delete this.items.get(path)!.mode;
  }

  /** A directory moved: what it (and everything in it) is owed moves with it; what `to` was owed is gone. */
  rename(from: string, to: string): void {
    this.drop(to);
    const moved: [string, DeferredDir][] = [];
    for (const [p, item] of this.items) {
      if (p === from || (p.startsWith(`${from}/`) && from !== '')) moved.push([to + p.slice(from.length), item]);
    }
    this.drop(from);
    for (const [p, item] of moved) this.items.set(p, item);
  }

  /** A directory is gone: forget it and everything below it. */
  drop(path: string): void {
    for (const p of this.items.keys()) if (p === path || p.startsWith(`${path}/`)) this.items.delete(p);
  }

  /** Hands every owed directory to apply, deepest first, and forgets them. */
  flush(apply: (path: string, item: DeferredDir) => void): void {
    const all = [...this.items].sort((a, b) => depth(b[0]) - depth(a[0]));
    this.items = new Map();
    for (const [p, item] of all) apply(p, item);
  }

  private item(path: string): DeferredDir {
    let item = this.items.get(path);
    if (item === undefined) this.items.set(path, (item = {}));
    return item;
  }
}

function depth(p: string): number {
  if (p === '') return 0;
  let n = 1;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) === 47) n++;
  return n;
}
