// A full stream makes the replica exactly the stream: what it does not name is removed. Full streams
// list the tree depth first (rill-stream(5), Scan streams), so memory stays bounded: only the
// directories on the current path are open, each with the names it received. When the stream leaves
// a directory (an event outside it, or its own metadata after its entries), the replica entries of
// that directory the stream did not name are moved to ROOT/.rill/trash; the root is finished last,
// and only then, the stream having kept its order to the end, are the trash and the stash emptied.
// Coming back to a finished directory is refused, and what was moved is still in the trash.
import { lstatSync, mkdirSync, opendirSync, readdirSync, renameSync } from 'node:fs';
import { RillError, ioError } from '../errors.js';
import type { Event, EventType, Ns } from '../stream/events.js';
import { bytesToPath, joinPath, parentPath, showPath } from '../stream/path.js';
import { STASH_DIR, STATE_DIR, type Confine } from './confine.js';
import { lookup } from './fsops.js';
import { mountPoint, removeTree } from './remove.js';

/** Where a full stream's sweep moves what it removes, until the stream's end. */
export const TRASH_DIR = `${STATE_DIR}/trash`;

/** What the sweep needs from the replica. */
export interface SweepHost {
  readonly confine: Confine;
  readonly privileged: boolean;
  /** Owes a directory its times again (removing entries changed its mtime). */
  dirTimes(path: string, atime: Ns, mtime: Ns): void;
  /** Notes that entries of the directory changed (for --fsync). */
  touched(dir: string): void;
}

/** A directory the stream is inside: the names it gave it so far (true: a directory). */
interface Open {
  path: string;
  names: Map<string, boolean>;
  /** Entries named so far (more than names holds in a fresh directory). */
  entries: number;
  /** Made by this replay, so nothing is in it but what the stream names: no sweep, only its directories' names kept. */
  fresh?: boolean;
  /** Its times, when the stream set them while it was open. */
  times?: [Ns, Ns];
}

/** Events that put a non-directory at their path. */
const NON_DIRS = new Set<EventType>(['create', 'symlink', 'link', 'mknod']);
/** A directory's own metadata: after its entries, it says the directory is complete. */
const METADATA = new Set<EventType>(['chown', 'setxattr', 'removexattr', 'chmod', 'utimes']);
/** Events that name no entry of the tree (link targets and assertions only refer to one). */
const NO_ENTRY = new Set<EventType>(['commit', 'bookmark', 'note', 'assert']);
/** Changes, not state: a full stream never holds them. */
const CHANGES = new Set<EventType>(['rename', 'unlink', 'rmdir']);

/** The sweep of one full stream. */
export class Sweep {
  private readonly stack: Open[] = [{ path: '', names: new Map(), entries: 0 }];
  /** The entry the last event named, while nothing else was named since (its events follow one another). */
  private last: string | undefined;
  /** Entries removed so far (moved to the trash, or removed where the trash is on another file system). */
  removed = 0;
  private trashDev: number | undefined;
  private trashed = 0;

  constructor(private readonly host: SweepHost) {}

  /** Before an event is applied: finishes (sweeps) the directories it is not in. */
  before(e: Event): void {
    this.step(e, true);
  }

  /** An event skipped as applied before: only its names count (the sweeps it caused were done before it was applied). */
  observe(e: Event): void {
    this.step(e, false);
  }

  /** Directories are still open: the stream has not finished the root. */
  get open(): boolean {
    return this.stack.length > 0;
  }

  /** The end of the stream: finishes every open directory, the root last (sweeping them when acting). */
  finish(act: boolean): void {
    while (this.stack.length > 0) this.leave(act);
  }

  /** The directory of the mkdir being applied did not exist: it holds nothing to sweep. */
  created(path: string): void {
    if (this.top.path === path) this.top.fresh = true;
  }

  /** A directory stands where the stream puts a non-directory: it is not part of the stream's tree. */
  replaceDir(path: string): boolean {
    const c = this.host.confine;
    this.discard(path, c.resolve(path, false), c.parentDev(path));
    return true;
  }

  private step(e: Event, act: boolean): void {
    if (NO_ENTRY.has(e.type)) return;
    const p = (e as { path: string }).path;
    if (CHANGES.has(e.type)) {
      throw new RillError('stream', `a full stream holds the state of a tree, not changes, but this one has ${e.type} ${showPath(p)} (seq ${e.seq})`, {
        path: p,
        hint: 'replay it without its full flag, or capture a full stream again',
      });
    }
    if (p === this.last && e.type !== 'mkdir') return; // the same entry again: nothing new
    while (this.stack.length > 0 && !inside(p, this.top.path)) this.leave(act);
    if (this.stack.length === 0) {
      if (p === '' && !NON_DIRS.has(e.type)) return; // the root's own metadata, after its entries
      throw outOfOrder(e, p, 'the stream already finished the root');
    }
    const top = this.top;
    if (p === top.path) {
      if (NON_DIRS.has(e.type)) throw outOfOrder(e, p, `${showPath(p)} is a directory the stream is still listing`);
      if (e.type === 'utimes') top.times = [e.atime, e.mtime];
      // Its own metadata after its entries: the directory is complete (an empty one stays open until left).
      if (METADATA.has(e.type) && top.entries > 0) this.leave(act);
      return;
    }
    const parent = parentPath(p);
    if (parent !== top.path) throw outOfOrder(e, p, `its directory ${showPath(parent)} was finished already, or not made by the stream before it`);
    const name = parent === '' ? p : p.slice(parent.length + 1);
    top.entries++;
    if (e.type === 'mkdir') {
      if (top.names.get(name) === true) throw outOfOrder(e, p, `the stream already finished ${showPath(p)}`);
      top.names.set(name, true);
      this.stack.push({ path: p, names: new Map(), entries: 0 });
      this.last = undefined;
    } else {
      if (top.fresh !== true && !top.names.has(name)) top.names.set(name, false);
      this.last = p;
    }
  }

  private get top(): Open {
    return this.stack[this.stack.length - 1]!;
  }

  /** Leaves the innermost open directory; when acting, removes the entries it did not name. */
  private leave(act: boolean): void {
    const dir = this.stack.pop()!;
    this.last = undefined;
    if (!act) return;
    const removed = dir.fresh === true ? 0 : this.sweep(dir.path, dir.names);
    if (removed > 0 && dir.times !== undefined) this.host.dirTimes(dir.path, dir.times[0], dir.times[1]);
    if (dir.path === '') {
      this.empty(STASH_DIR);
      this.empty(TRASH_DIR);
    }
  }

  /** Removes the entries of one directory that are not in names (never rill's own state at the root). */
  private sweep(dir: string, names: Map<string, boolean>): number {
    const c = this.host.confine;
    const abs = c.resolve(dir, true);
    const st = lookup(abs);
    if (st?.isDirectory() !== true) return 0;
    let removed = 0;
    for (const raw of readdirSync(abs, { encoding: 'buffer' })) {
      const name = bytesToPath(raw);
      if (names.has(name) || (dir === '' && name === STATE_DIR)) continue;
      const path = joinPath(dir, name);
      this.discard(path, c.abs(path), st.dev);
      removed++;
    }
    if (removed > 0) this.host.touched(dir);
    return removed;
  }

  /** Moves an entry to the trash; where the trash is on another file system, removes it at once. */
  private discard(path: string, abs: string | Buffer, dev: number): void {
    const c = this.host.confine;
    c.forget(path);
    this.removed++;
    if (dev !== this.trash()) {
      removeTree(path, abs, dev, this.host.privileged);
      return;
    }
    const st = lookup(abs);
    if (st?.isDirectory() === true && st.dev !== dev) throw mountPoint(path);
    for (;;) {
      const to = c.abs(`${TRASH_DIR}/${process.pid}.${++this.trashed}`);
      if (lookup(to) !== undefined) continue;
      try {
        renameSync(abs, to);
        return;
      } catch (err) {
        throw ioError('cannot remove', path, err);
      }
    }
  }

  /** The device of the trash directory, made when first needed. */
  private trash(): number {
    if (this.trashDev !== undefined) return this.trashDev;
    const abs = this.host.confine.abs(TRASH_DIR);
    try {
      mkdirSync(abs, 0o700);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw ioError('cannot create', abs.toString(), err);
    }
    const st = lstatSync(abs);
    if (!st.isDirectory()) throw new RillError('unsafe', `${JSON.stringify(abs.toString())} is not a directory (something is in the way of rill's state)`, { path: abs.toString() });
    return (this.trashDev = st.dev);
  }

  /** Removes everything in one of rill's own directories (the stash, the trash), listing it a piece at a time. */
  private empty(dir: string): void {
    const abs = this.host.confine.abs(dir);
    const st = lookup(abs);
    if (st?.isDirectory() !== true) return;
    // Node gives Buffer names with encoding 'buffer' here too; its types only say so for readdir.
    const listing = opendirSync(abs, { encoding: 'buffer' as BufferEncoding });
    try {
      for (let d = listing.readSync(); d !== null; d = listing.readSync()) {
        const name = d.name as unknown as Buffer;
        removeTree(`${dir}/${bytesToPath(name)}`, Buffer.concat([Buffer.from(abs), Buffer.from('/'), name]), st.dev, this.host.privileged);
      }
    } finally {
      listing.closeSync();
    }
  }
}

/** True when p is dir or below it. */
function inside(p: string, dir: string): boolean {
  return dir === '' || p === dir || (p.startsWith(dir) && p.charCodeAt(dir.length) === 0x2f);
}

function outOfOrder(e: Event, p: string, why: string): RillError {
  return new RillError('stream', `full stream not in scan order at ${e.type} ${showPath(p)} (seq ${e.seq}): ${why}`, {
    path: p,
    hint: `a full stream lists the tree depth first (rill-stream(5), Scan streams), and replay removes what it does not name as it leaves each directory (what it removed so far waits in ${TRASH_DIR} until a full stream completes); capture it again with rill capture --scan`,
  });
}
