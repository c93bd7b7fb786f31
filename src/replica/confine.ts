// The only way from a stream path to a file-system path in the replica: every ancestor must be a real
// directory beneath the root (never a symlink), and rill's own `.rill` directory is out of reach but
// for the entries of its stash, which change sets move entries through (rename, unlink, rmdir only).
import { lstatSync } from 'node:fs';
import { RillError } from '../errors.js';
import { fsPath, pathProblem, showPath } from '../stream/path.js';

/** Name of rill's state directory at the top of every replica; no stream path may enter it. */
export const STATE_DIR = '.rill';
/** Where change sets park entries while they reorder names (see rill-stream(5), Change sets). */
export const STASH_DIR = `${STATE_DIR}/stash`;

/** True for `.rill/stash/NAME`: exactly one component below the stash. */
export function isStashEntry(p: string): boolean {
  return p.startsWith(`${STASH_DIR}/`) && p.indexOf('/', STASH_DIR.length + 1) < 0 && p.length > STASH_DIR.length + 1;
}

/**
 * Refuses a path that is malformed (absolute, '..', ...) or reaches into .rill; needs no file system.
 * With `stash`, an entry of the stash (.rill/stash/NAME) is allowed.
 */
export function checkPath(p: string, allowRoot: boolean, stash = false): void {
  const problem = pathProblem(p, allowRoot);
  if (problem !== undefined) {
    throw new RillError('unsafe', `refused path ${showPath(p)}: ${problem}`, { path: p, hint: 'the stream is malformed or hostile' });
  }
  if ((p === STATE_DIR || p.startsWith(`${STATE_DIR}/`)) && !(stash && isStashEntry(p))) {
    const only = isStashEntry(p) ? ` (an entry of ${STASH_DIR} may only be renamed, unlinked or removed)` : '';
    throw new RillError('unsafe', `refused path ${showPath(p)}: '${STATE_DIR}' holds rill's own state and is never replicated${only}`, { path: p });
  }
}

/** Data events (write, truncate, punch) name the volume with path '': not something a tree replay can apply. */
export function checkDataPath(type: string, p: string): void {
  if (p !== '') return;
  throw new RillError('stream', `a ${type} event names the volume (path ""), but ROOT is a directory: this is a volume stream; replay it into a file or block device`, {
    path: p,
  });
}

/** A verified directory: its device, and the verified directories inside it. */
interface DirNode {
  dev: number;
  children: Map<string, DirNode>;
}

/** How many verified directories to remember before starting over (memory stays bounded). */
const CACHE_LIMIT = 100_000;

/** Resolves stream paths beneath one root, caching which directory prefixes are verified. */
export class Confine {
  private tree: DirNode;
  private size = 0;

  /** `root` must be an absolute, symlink-free path to an existing directory (see prepareRoot). */
  constructor(
    readonly root: string,
    private readonly rootDev: number,
  ) {
    this.tree = { dev: rootDev, children: new Map() };
  }

  /** The node:fs argument for a root-relative path; checks nothing (use resolve for stream paths). */
  abs(p: string): string | Buffer {
    return fsPath(p === '' ? this.root : `${this.root}/${p}`);
  }

  /** Checks a stream path and every ancestor directory of it; returns the fs path of its final component. */
  resolve(p: string, allowRoot: boolean, stash = false): string | Buffer {
    this.parent(p, allowRoot, stash);
    return this.abs(p);
  }

  /** Like resolve, but returns the device of the verified parent directory (for temp-file placement). */
  parentDev(p: string): number {
    return this.parent(p, false).dev;
  }

  /** Forgets what is known about p and everything below it (after rename, rmdir, unlink, symlink). */
  forget(p: string): void {
    if (p === '') {
      this.tree = { dev: this.rootDev, children: new Map() };
      this.size = 0;
      return;
    }
    const parts = p.split('/');
    const last = parts.pop()!;
    let node: DirNode | undefined = this.tree;
    for (const part of parts) {
      node = node.children.get(part);
      if (node === undefined) return;
    }
    node.children.delete(last);
  }

  /** Verifies the syntax of p and each ancestor directory; returns the node of p's parent. */
  private parent(p: string, allowRoot: boolean, stash = false): DirNode {
    checkPath(p, allowRoot, stash);
    if (p === '') return this.tree;
    const parts = p.split('/');
    let node = this.tree;
    let prefix = '';
    for (let i = 0; i < parts.length - 1; i++) {
      const part = parts[i]!;
      prefix = prefix === '' ? part : `${prefix}/${part}`;
      let next = node.children.get(part);
      if (next === undefined) {
        next = { dev: this.verifyDir(p, prefix), children: new Map() };
        if (++this.size > CACHE_LIMIT) this.forget('');
        node.children.set(part, next);
      }
      node = next;
    }
    return node;
  }

  /** lstat of one ancestor: a real directory, or an error saying what is in the way. */
  private verifyDir(p: string, prefix: string): number {
    let st;
    try {
      st = lstatSync(this.abs(prefix));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? `its parent directory ${showPath(prefix)} does not exist in the replica` : `cannot inspect ${showPath(prefix)}`;
      throw new RillError('io', `${showPath(p)}: ${why}`, { path: p, cause: err, hint: 'the replica has diverged from the stream; replay a full stream' });
    }
    if (st.isSymbolicLink()) {
      throw new RillError('unsafe', `refused path ${showPath(p)}: ${showPath(prefix)} is a symbolic link in the replica, and replay never follows one`, {
        path: p,
        hint: 'the stream is hostile or the replica was changed by something else',
      });
    }
    if (!st.isDirectory()) {
      throw new RillError('io', `${showPath(p)}: ${showPath(prefix)} is not a directory in the replica`, {
        path: p,
        hint: 'the replica has diverged from the stream; replay a full stream',
      });
    }
    return st.dev;
  }
}
