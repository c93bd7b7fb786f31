// Pass 2b of an incremental scan: the new tree in manifest order (from the draft), each entry
// brought about as cheaply as the comparison allows: kept entries get only their changed blocks
// and metadata, moved ones come back from the stash first, new ones are captured whole. A
// directory's metadata follows its contents and the root's comes last, as in a full scan; with no
// previous manifest this is a full scan in scan order. Every entry is written to the new manifest
// as what the stream makes of the replica (hashes of the bytes sent, not of a later re-read).
import { closeSync, fstatSync, readlinkSync, type BigIntStats } from 'node:fs';
import type { EventInput, Path } from '../stream/events.js';
import { bytesToPath } from '../stream/path.js';
import { blockEvents, hashBytes, type BlockPlan } from './blocks.js';
import { openNoFollow } from './entry.js';
import { entryFromStat, PathStack, toStored, type ManifestEntry, type XattrDigest } from './manifest.js';
import { readXattrs, type Xattr } from './metadata.js';
import { problemFor, type ScanProblem } from './problems.js';
import type { StateReader, StateWriter } from './state-file.js';
import { decodeEntry, isDir, newOrigin, stashPath, type NewOrigin, type Sides } from './tree-fate.js';
import { RootPaths, S_IFLNK, S_IFMT, S_IFREG } from './walk.js';

export interface ChangeContext {
  /** Both sides of the comparison; undefined for a full stream (no previous manifest). */
  sides?: Sides;
  draft: StateReader;
  writer: StateWriter;
  paths: RootPaths;
  plan: BlockPlan;
  /** Hash every kept file, not only those whose size, mtime or ctime moved. */
  checksum: boolean;
  /** Reports a problem and returns its note. */
  problem(p: ScanProblem): EventInput;
}

const PERMS = 0o7777;
const SETID = 0o6000;

interface Dir {
  depth: number;
  path: Path;
  n: ManifestEntry;
  old?: ManifestEntry;
  xattrs?: Xattr[];
  /** A child was created, linked, renamed in or out here: the replica's mtime moved. */
  touched: boolean;
}

/** A hard-linked inode whose first name this run was placed; later names link to it. */
interface Placed {
  path: Path;
  /** The first name was captured whole (not kept): every later name must link to it. */
  fresh: boolean;
  record: ManifestEntry;
  remaining: number;
}

function digest(xattrs: Xattr[]): XattrDigest[] | null {
  return xattrs.length === 0 ? null : xattrs.map((x) => [x.name, hashBytes(x.value)]);
}

/** chown, xattr changes, chmod, utimes: what differs from old (everything when there is no old). */
function* metadataChanges(path: Path, n: ManifestEntry, old: ManifestEntry | undefined, xattrs: Xattr[] | undefined, chmod: 'always' | 'setid' | 'never', force: boolean): Generator<EventInput> {
  const perms = n.mode & PERMS;
  const owner = old === undefined || old.uid !== n.uid || old.gid !== n.gid;
  if (owner) yield { type: 'chown', path, uid: n.uid, gid: n.gid };
  if (xattrs !== undefined) {
    const before = new Map((old?.xattrs ?? []).map(([name, hash]) => [name.toString('latin1'), hash]));
    for (const x of xattrs) {
      const key = x.name.toString('latin1');
      const had = before.get(key);
      before.delete(key);
      // chown drops security.capability: set it again whenever the owner was set.
      if (had === undefined || !had.equals(hashBytes(x.value)) || owner) yield { type: 'setxattr', path, name: bytesToPath(x.name), value: x.value };
    }
    for (const key of before.keys()) yield { type: 'removexattr', path, name: bytesToPath(Buffer.from(key, 'latin1')) };
  }
  const permsChanged = old !== undefined && (old.mode & PERMS) !== perms;
  const wantChmod =
    chmod === 'always' ? old === undefined || permsChanged : chmod === 'setid' ? permsChanged || (owner && (perms & SETID) !== 0) : false;
  if (wantChmod) yield { type: 'chmod', path, mode: perms };
  if (old === undefined || old.mtime !== n.mtime || force) yield { type: 'utimes', path, atime: n.atime, mtime: n.mtime };
}

/** The events of the new tree, entry by entry; writes the new manifest as it goes. */
export function* treeChanges(c: ChangeContext): Generator<EventInput> {
  const names = new PathStack();
  const open: Dir[] = [];
  const placed = new Map<string, Placed>();
  let skipBelow = -1; // depth of a directory that vanished: its draft entries are skipped

  /** Records an entry in the new manifest. */
  const record = (e: ManifestEntry): void => {
    c.writer.add(toStored(e));
  };

  function* closeDir(d: Dir): Generator<EventInput> {
    yield* metadataChanges(d.path, d.n, d.old, d.xattrs, 'always', d.touched);
  }

  /** Reads xattrs where they may have changed (ctime moved, or new); else undefined (keep the old digest). */
  function xattrsIfChanged(abs: string | Buffer, n: ManifestEntry, old: ManifestEntry | undefined): Xattr[] | undefined {
    if (old !== undefined && !c.checksum && old.ctime === n.ctime) return undefined;
    return readXattrs(abs);
  }

  /** A directory: mkdir if new (its metadata after its contents), or the stash brought it back. */
  function* dir(n: ManifestEntry, path: Path, abs: string | Buffer, origin: NewOrigin, parent: Dir | undefined): Generator<EventInput, Dir | undefined> {
    const old = origin.kind === 'new' ? undefined : origin.old;
    let xattrs: Xattr[] | undefined;
    try {
      xattrs = xattrsIfChanged(abs, n, old);
    } catch (err) {
      const p = problemFor(path, err);
      yield c.problem(p);
      if (old === undefined) return undefined; // never created: its contents are skipped too
    }
    if (old === undefined && path !== '') {
      yield { type: 'mkdir', path, mode: n.mode & PERMS };
      if (parent !== undefined) parent.touched = true;
    }
    record({ ...n, xattrs: xattrs === undefined ? (old?.xattrs ?? null) : digest(xattrs) });
    return { depth: n.depth, path, n, old, xattrs, touched: false };
  }

  /** A regular file captured whole: create, its data, metadata. Returns its manifest entry, or undefined. */
  function* wholeFile(n: ManifestEntry, path: Path, abs: string | Buffer): Generator<EventInput, ManifestEntry | undefined> {
    let fd: number;
    try {
      fd = openNoFollow(abs);
    } catch (err) {
      yield c.problem(problemFor(path, err));
      return undefined;
    }
    let created = false;
    try {
      const st = fstatSync(fd, { bigint: true });
      if ((Number(st.mode) & S_IFMT) !== S_IFREG) {
        yield c.problem({ code: 'changed', path, message: 'is no longer a regular file; not in the stream (the next run captures it)' });
        return undefined;
      }
      const xattrs = readXattrs(abs);
      yield { type: 'create', path, mode: Number(st.mode) & PERMS };
      created = true;
      const size = Number(st.size);
      const hashes = yield* blockEvents(fd, path, size, { ...c.plan, allocated: Number(st.blocks) * 512 });
      if (size > 0 && Number(st.blocks) * 512 < size) yield { type: 'truncate', path, size };
      const e = fromFstat(n, st, hashes, xattrs);
      yield* metadataChanges(path, e, undefined, xattrs, 'setid', false);
      yield* changedWhileRead(fd, path, st, e);
      return e;
    } catch (err) {
      yield c.problem(problemFor(path, err));
      if (created) yield { type: 'unlink', path };
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** A kept or moved regular file: changed blocks and metadata only. Returns its manifest entry. */
  function* fileDelta(n: ManifestEntry, path: Path, abs: string | Buffer, old: ManifestEntry): Generator<EventInput, ManifestEntry> {
    const contentMoved = c.checksum || old.hashes === null || n.size !== old.size || n.mtime !== old.mtime || n.ctime !== old.ctime;
    if (!contentMoved) return { ...n, hashes: old.hashes, xattrs: old.xattrs };
    let fd: number;
    try {
      fd = openNoFollow(abs);
    } catch (err) {
      yield c.problem(problemFor(path, err));
      return { ...old, name: n.name, depth: n.depth, parent: n.parent }; // the replica keeps the old one
    }
    try {
      const st = fstatSync(fd, { bigint: true });
      const xattrs = xattrsIfChanged(abs, n, old);
      const size = Number(st.size);
      let wrote = false;
      const blocks = blockEvents(fd, path, size, { ...c.plan, allocated: Number(st.blocks) * 512 }, { size: old.size, hashes: old.hashes! });
      let r = blocks.next();
      for (; !r.done; r = blocks.next()) {
        wrote = true;
        yield r.value;
      }
      if (size !== old.size) {
        yield { type: 'truncate', path, size };
        wrote = true;
      }
      const e = fromFstat(n, st, r.value, xattrs);
      if (xattrs === undefined) e.xattrs = old.xattrs;
      yield* metadataChanges(path, e, old, xattrs, 'setid', wrote);
      yield* changedWhileRead(fd, path, st, e);
      return e;
    } catch (err) {
      yield c.problem(problemFor(path, err));
      return { ...old, name: n.name, depth: n.depth, parent: n.parent, ctime: -1n };
    } finally {
      closeSync(fd);
    }
  }

  /** A note when the file moved while it was read; its entry then forces a re-read next run. */
  function* changedWhileRead(fd: number, path: Path, before: BigIntStats, e: ManifestEntry): Generator<EventInput> {
    const after = fstatSync(fd, { bigint: true });
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs || after.ctimeNs !== before.ctimeNs) {
      e.ctime = -1n;
      yield c.problem({ code: 'changed', path, message: 'changed while it was read: its copy in the stream may mix old and new content (the next run sends it again)' });
    }
  }

  /** A regular file, hard links considered. */
  function* file(n: ManifestEntry, path: Path, abs: string | Buffer, origin: NewOrigin, parent: Dir): Generator<EventInput> {
    const key = `${n.dev}:${n.ino}`;
    const first = n.nlink > 1 ? placed.get(key) : undefined;
    if (first !== undefined) {
      if (first.fresh || origin.kind !== 'kept') {
        yield { type: 'link', path, target: first.path };
        parent.touched = true;
      }
      record({ ...first.record, name: n.name, depth: n.depth, parent: n.parent });
      if (--first.remaining <= 0) placed.delete(key);
      return;
    }
    let e: ManifestEntry | undefined;
    if (origin.kind === 'new') {
      e = yield* wholeFile(n, path, abs);
      if (e !== undefined) parent.touched = true;
    } else {
      e = yield* fileDelta(n, path, abs, origin.old);
    }
    if (e === undefined) return;
    record(e);
    if (n.nlink > 1) placed.set(key, { path, fresh: origin.kind === 'new', record: e, remaining: n.nlink - 1 });
  }

  /**
   * A symlink, fifo, socket or device node. Their content cannot change in place, but an inode
   * number can be reused by a new one: the target (its hash is kept) and rdev are compared whenever
   * the change time moved, and a different one is created anew.
   */
  function* other(n: ManifestEntry, path: Path, abs: string | Buffer, origin: NewOrigin, parent: Dir): Generator<EventInput> {
    let old = origin.kind === 'new' ? undefined : origin.old;
    const symlink = (n.mode & S_IFMT) === S_IFLNK;
    try {
      let target: Buffer | undefined;
      let hashes = old?.hashes ?? null;
      if (symlink && (old === undefined || old.ctime !== n.ctime || c.checksum)) {
        target = readlinkSync(abs, { encoding: 'buffer' });
        hashes = hashBytes(target);
        if (old !== undefined && (old.hashes === null || !old.hashes.equals(hashes))) old = undefined;
      }
      if (!symlink && old !== undefined && old.rdev !== n.rdev) old = undefined;
      const xattrs = old === undefined ? readXattrs(abs) : xattrsIfChanged(abs, n, old);
      if (old === undefined) {
        if (symlink) yield { type: 'symlink', path, target: bytesToPath(target ?? readlinkSync(abs, { encoding: 'buffer' })) };
        else yield { type: 'mknod', path, mode: n.mode, rdev: n.rdev };
        parent.touched = true;
      }
      yield* metadataChanges(path, n, old, xattrs, symlink ? 'never' : 'setid', false);
      record({ ...n, hashes, xattrs: xattrs === undefined ? (old?.xattrs ?? null) : digest(xattrs) });
    } catch (err) {
      yield c.problem(problemFor(path, err));
      if (old !== undefined) record({ ...old, name: n.name, depth: n.depth, parent: n.parent, ctime: -1n });
    }
  }

  for (const [, rec] of c.draft.records()) {
    const n = decodeEntry(rec, c.draft);
    const path = names.push(n.depth, n.name);
    if (skipBelow >= 0) {
      if (n.depth > skipBelow) continue;
      skipBelow = -1;
    }
    while (open.length > 0 && open[open.length - 1]!.depth >= n.depth) yield* closeDir(open.pop()!);
    const parent = open[open.length - 1];
    const abs = c.paths.abs(path);
    const origin = n.depth === 0 ? rootOrigin(n, c.sides) : newOrigin(n, c.sides);
    if (origin.kind === 'moved') {
      yield { type: 'rename', path: stashPath(origin.old), to: path };
      parent!.touched = true;
    }
    if (isDir(n)) {
      const d = yield* dir(n, path, abs, origin, parent);
      if (d === undefined) skipBelow = n.depth;
      else open.push(d);
    } else if ((n.mode & S_IFMT) === S_IFREG) {
      yield* file(n, path, abs, origin, parent!);
    } else {
      yield* other(n, path, abs, origin, parent!);
    }
  }
  while (open.length > 0) yield* closeDir(open.pop()!);
}

/** The root is the root: kept when there is a previous manifest (its identity was checked). */
function rootOrigin(n: ManifestEntry, sides: Sides | undefined): NewOrigin {
  if (sides === undefined) return { kind: 'new' };
  for (const [, rec] of sides.old.records()) return { kind: 'kept', old: decodeEntry(rec, sides.old) };
  return { kind: 'new' };
}

/** The manifest entry of a file as read through fd. */
function fromFstat(n: ManifestEntry, st: BigIntStats, hashes: Buffer, xattrs: Xattr[] | undefined): ManifestEntry {
  return { ...entryFromStat(n.name, n.depth, n.parent, st), hashes, xattrs: xattrs === undefined ? null : digest(xattrs) };
}
