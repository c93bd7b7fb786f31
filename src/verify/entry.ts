// What verify knows about one name on one side: its lstat (ns times, 64-bit numbers) and lazy readers for
// the parts that cost a system call each (symlink target, xattrs). Never follows a final symlink.
import { lstatSync, readdirSync, readlinkSync, type BigIntStats } from 'node:fs';
import { getSystemErrorMap } from 'node:util';
import { RillError } from '../errors.js';
import { fsPath, showPath } from '../stream/path.js';
import { sys } from '../sys/native.js';
import type { EntryType } from './difference.js';

/** Which tree an entry belongs to, as messages name it. */
export type Side = 'A' | 'B';

/** One side of a tree: its root as given (a path argument) and its name in messages. */
export interface TreeRoot {
  side: Side;
  root: string;
}

/** The lstat facts verify compares, with 64-bit values kept exact. */
export interface Entry {
  type: EntryType;
  /** Permission bits including setuid/setgid/sticky (mode & 07777). */
  perm: number;
  uid: number;
  gid: number;
  size: number;
  mtimeNs: bigint;
  atimeNs: bigint;
  rdev: bigint;
  /** "dev:ino", the identity of the inode within its tree. */
  inode: string;
  nlink: number;
}

const S_IFMT = 0o170000;
const TYPES: Record<number, EntryType> = {
  0o100000: 'file',
  0o040000: 'dir',
  0o120000: 'symlink',
  0o010000: 'fifo',
  0o020000: 'chardev',
  0o060000: 'blockdev',
  0o140000: 'socket',
};

/** The absolute path (for node:fs) of a relative Path under a root; why: one join rule for every call. */
export function fullPath(tree: TreeRoot, rel: string): string | Buffer {
  if (rel === '') return fsPath(tree.root);
  return fsPath(tree.root.endsWith('/') ? tree.root + rel : `${tree.root}/${rel}`);
}

/** A failed system call on a tree as one io error naming side and path; why: verify's errors all read alike. */
export function treeError(what: string, tree: TreeRoot, rel: string, cause: unknown, hint?: string): RillError {
  const err = cause as NodeJS.ErrnoException;
  const reason = (typeof err?.errno === 'number' && getSystemErrorMap().get(err.errno)?.[1]) || err?.message || String(cause);
  const subject = rel === '' ? `${tree.side} ${showPath(tree.root)}` : `${showPath(rel)} in ${tree.side} (${showPath(tree.root)})`;
  const denied = err?.code === 'EACCES' || err?.code === 'EPERM';
  hint ??= denied ? 'run verify as a user who can read both trees (e.g. root)' : undefined;
  return new RillError('io', `cannot ${what} ${subject}: ${reason}`, { path: rel, cause, hint });
}

/** An ENOENT error for names that turn out missing; why: lstat's throwIfNoEntry gives none to report. */
export function noEntry(): NodeJS.ErrnoException {
  return Object.assign(new Error('no such file or directory'), { code: 'ENOENT', errno: -2 });
}

/** lstat of a name, as an Entry; undefined when it does not exist. Why: the quick checks need only this. */
export function statEntry(tree: TreeRoot, rel: string): Entry | undefined {
  let st: BigIntStats | undefined;
  try {
    st = lstatSync(fullPath(tree, rel), { bigint: true, throwIfNoEntry: false });
  } catch (err) {
    throw treeError('stat', tree, rel, err);
  }
  if (st === undefined) return undefined;
  return {
    type: TYPES[Number(st.mode) & S_IFMT] ?? 'unknown',
    perm: Number(st.mode) & 0o7777,
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    mtimeNs: st.mtimeNs,
    atimeNs: st.atimeNs,
    rdev: st.rdev,
    inode: `${st.dev}:${st.ino}`,
    nlink: Number(st.nlink),
  };
}

/** The names in a directory as raw bytes, sorted by Buffer.compare; why: both trees are walked in one order. */
export function listDir(tree: TreeRoot, rel: string): Buffer[] {
  let names: Buffer[];
  try {
    names = readdirSync(fullPath(tree, rel), { encoding: 'buffer' });
  } catch (err) {
    throw treeError('list directory', tree, rel, err);
  }
  return names.sort(Buffer.compare);
}

/** A symlink's target as bytes. */
export function readTarget(tree: TreeRoot, rel: string): Buffer {
  try {
    return readlinkSync(fullPath(tree, rel), { encoding: 'buffer' });
  } catch (err) {
    throw treeError('read symlink', tree, rel, err);
  }
}

/** Extended attribute names (every namespace the kernel lists), sorted by bytes. */
export function xattrNames(tree: TreeRoot, rel: string): Buffer[] {
  try {
    return sys.listXattr(fullPath(tree, rel)).sort(Buffer.compare);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOTSUP') return [];
    throw treeError('list xattrs of', tree, rel, err);
  }
}

/** One extended attribute's value, or null when it does not exist (any more). */
export function xattrValue(tree: TreeRoot, rel: string, name: Buffer): Buffer | null {
  try {
    return sys.getXattr(fullPath(tree, rel), name);
  } catch (err) {
    throw treeError('read xattr of', tree, rel, err);
  }
}
