// One entry of a tree's state manifest, as stored (a CBOR array, positional: compact) and as used.
// Entries are stored depth first, names in byte order, each directory before its contents, with
// their depth, so a sequential reader rebuilds every path with a stack of names.
import type { BigIntStats } from 'node:fs';
import type { Path } from '../stream/events.js';
import type { DirEntryStat } from './dir-stat.js';
import { bytesToPath, joinPath } from '../stream/path.js';

/** An extended attribute as the manifest remembers it: its name and the xxh64 of its value. */
export type XattrDigest = [name: Buffer, hash: Buffer];

export interface ManifestEntry {
  /** The name in its parent (bytes); empty for the root. */
  name: Buffer;
  depth: number;
  /** Inode of the parent directory (0 for the root). */
  parent: number;
  ino: number;
  dev: number;
  /** st_mode, type bits included. */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: bigint;
  ctime: bigint;
  nlink: number;
  rdev: number;
  /** Extended attributes (names in byte order); null when there are none. */
  xattrs: XattrDigest[] | null;
  /** Block hashes of a regular file's content (see blocks.ts), the hash of a symlink's target; null for other kinds. */
  hashes: Buffer | null;
  /** Access time when stat'ed (what utimes sets with mtime; never compared). */
  atime: bigint;
}

/** The stored form: a positional array. */
type Stored = [Buffer, number, number, number, number, number, number, number, number, bigint, bigint, number, number, XattrDigest[] | null, Buffer | null, bigint];

export function toStored(e: ManifestEntry): Stored {
  return [e.name, e.depth, e.parent, e.ino, e.dev, e.mode, e.uid, e.gid, e.size, e.mtime, e.ctime, e.nlink, e.rdev, e.xattrs, e.hashes, e.atime];
}

/** Decodes a stored entry; undefined when it is not one (the caller reports corruption). */
export function fromStored(rec: unknown): ManifestEntry | undefined {
  if (!Array.isArray(rec) || rec.length < 16 || !(rec[0] instanceof Uint8Array)) return undefined;
  const [name, depth, parent, ino, dev, mode, uid, gid, size, mtime, ctime, nlink, rdev, xattrs, hashes, atime] = rec as Stored;
  if (typeof depth !== 'number' || typeof ino !== 'number' || typeof mtime !== 'bigint' || typeof ctime !== 'bigint' || typeof atime !== 'bigint') return undefined;
  const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.length);
  return { name: buf(name), depth, parent, ino, dev, mode, uid, gid, size, mtime, ctime, nlink, rdev, xattrs: xattrs === null ? null : xattrs.map(([n, h]) => [buf(n), buf(h)]), hashes: hashes === null ? null : buf(hashes), atime };
}

/** A manifest entry for a listed entry's lstat (xattrs and hashes to be filled in). */
export function entryFromDirStat(d: DirEntryStat, depth: number, parent: number): ManifestEntry {
  return {
    name: d.name,
    depth,
    parent,
    ino: d.ino,
    dev: d.dev,
    mode: d.mode,
    uid: d.uid,
    gid: d.gid,
    size: d.size,
    mtime: d.mtime,
    ctime: d.ctime,
    nlink: d.nlink,
    rdev: d.rdev,
    xattrs: null,
    hashes: null,
    atime: d.atime,
  };
}

/** A manifest entry for a stat (xattrs and hashes to be filled in). */
export function entryFromStat(name: Buffer, depth: number, parent: number, st: BigIntStats): ManifestEntry {
  return {
    name,
    depth,
    parent,
    ino: Number(st.ino),
    dev: Number(st.dev),
    mode: Number(st.mode),
    uid: Number(st.uid),
    gid: Number(st.gid),
    size: Number(st.size),
    mtime: st.mtimeNs,
    ctime: st.ctimeNs,
    nlink: Number(st.nlink),
    rdev: Number(st.rdev),
    xattrs: null,
    hashes: null,
    atime: st.atimeNs,
  };
}

/** Rebuilds paths of entries read in stored order (depth first, with depths). */
export class PathStack {
  private readonly paths: Path[] = [];

  /** The path of the entry at this depth with this name ('' for the root). */
  push(depth: number, name: Buffer): Path {
    const path = depth === 0 ? '' : joinPath(this.paths[depth - 1] ?? '', bytesToPath(name));
    this.paths.length = depth;
    this.paths.push(path);
    return path;
  }
}
