// Directory metadata held back until the next commit or end, applied deepest first: times (creating
// children would disturb them) and, when not root, modes that would lock replay out (no u+wx).
// Every change can be journaled (ROOT/.rill/deferred.log), so a killed replay that resumes past the
// events that owed it still applies it (see progress.ts).
import type { Ns } from '../stream/events.js';

/** What is owed to one directory. */
export interface DeferredDir {
  mode?: number;
  atime?: Ns;
  mtime?: Ns;
}

/** One change to the set, as journaled. */
export type DeferredOp =
  | { op: 'times'; path: string; atime: Ns; mtime: Ns }
  | { op: 'mode'; path: string; mode?: number }
  | { op: 'rename'; from: string; to: string }
  | { op: 'drop'; path: string };

/** Past this many directories between commits, flush early (memory stays bounded). */
export const DEFERRED_LIMIT = 65_536;

/** The set of directories with metadata still to apply, keyed by root-relative Path. */
export class Deferred {
  private items = new Map<string, DeferredDir>();
  private journal: ((op: DeferredOp) => void) | undefined;

  /** `journal` hears every change that alters the set (not the flushes). */
  constructor(journal?: (op: DeferredOp) => void) {
    this.journal = journal;
  }

  /** Number of directories waiting. */
  get size(): number {
    return this.items.size;
  }

  /** Owes a directory its times. */
  times(path: string, atime: Ns, mtime: Ns): void {
    const item = this.item(path);
    item.atime = atime;
    item.mtime = mtime;
    this.journal?.({ op: 'times', path, atime, mtime });
  }

  /** Owes a directory its exact mode (or, with undefined, forgets an owed mode: a later chmod won). */
  mode(path: string, mode: number | undefined): void {
    if (mode !== undefined) this.item(path).mode = mode;
    else if (this.items.get(path)?.mode !== undefined) delete this.items.get(path)!.mode;
    else return;
    this.journal?.({ op: 'mode', path, mode });
  }

  /** A directory moved: what it (and everything in it) is owed moves with it; what `to` was owed is gone. */
  rename(from: string, to: string): void {
    if (this.items.size === 0) return;
    this.forget(to);
    const moved: [string, DeferredDir][] = [];
    for (const [p, item] of this.items) {
      if (p === from || (p.startsWith(`${from}/`) && from !== '')) moved.push([to + p.slice(from.length), item]);
    }
    this.forget(from);
    for (const [p, item] of moved) this.items.set(p, item);
    this.journal?.({ op: 'rename', from, to });
  }

  /** A directory is gone: forget it and everything below it. */
  drop(path: string): void {
    if (this.items.size === 0) return;
    this.forget(path);
    this.journal?.({ op: 'drop', path });
  }

  /** Repeats a journaled change (rebuilding the set after a crash); not journaled again. */
  replay(op: DeferredOp): void {
    const journal = this.journal;
    this.journal = undefined;
    try {
      if (op.op === 'times') this.times(op.path, op.atime, op.mtime);
      else if (op.op === 'mode') this.mode(op.path, op.mode);
      else if (op.op === 'rename') this.rename(op.from, op.to);
      else this.drop(op.path);
    } finally {
      this.journal = journal;
    }
  }

  /** Hands every owed directory to apply, deepest first, and forgets them. */
  flush(apply: (path: string, item: DeferredDir) => void): void {
    const all = [...this.items].sort((a, b) => depth(b[0]) - depth(a[0]));
    this.items = new Map();
    for (const [p, item] of all) apply(p, item);
  }

  private forget(path: string): void {
    for (const p of this.items.keys()) if (p === path || p.startsWith(`${path}/`)) this.items.delete(p);
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
