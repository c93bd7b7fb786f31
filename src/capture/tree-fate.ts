// How the tree of the last run and the tree now correspond, by inode: an entry is kept (same
// inode, same parent inode, same name), moved (a directory, or a file with one name then and now,
// found elsewhere), or gone / new. Both passes ask the same questions, so the stash holds exactly
// what pass 2 takes out of it.
import { InodeIndex } from './inode-index.js';
import { fromStored, type ManifestEntry } from './manifest.js';
import type { StateReader } from './state-file.js';
import { S_IFDIR, S_IFMT, S_IFREG } from './walk.js';
import { hashBytes } from './blocks.js';
import { RillError } from '../errors.js';

/** The last run's manifest and this run's draft, each with its inode index. */
export interface Sides {
  old: StateReader;
  oldIndex: InodeIndex;
  /** Old entries by placeKey(parent, name). */
  oldByName: InodeIndex;
  draft: StateReader;
  newIndex: InodeIndex;
  newByName: InodeIndex;
}

export function isDir(e: ManifestEntry): boolean {
  return (e.mode & S_IFMT) === S_IFDIR;
}

/** Decodes a stored entry or reports the state file as corrupt. */
export function decodeEntry(rec: unknown, reader: StateReader): ManifestEntry {
  const e = fromStored(rec);
  if (e === undefined) {
    throw new RillError('mismatch', `state file ${JSON.stringify(reader.file)} is corrupt: a record is not a manifest entry`, {
      path: reader.file,
      hint: 'capture again with --full to rebuild it',
    });
  }
  return e;
}

function sameKind(a: ManifestEntry, b: ManifestEntry): boolean {
  return a.dev === b.dev && (a.mode & S_IFMT) === (b.mode & S_IFMT);
}

function samePlace(a: ManifestEntry, b: ManifestEntry): boolean {
  return a.parent === b.parent && a.name.equals(b.name);
}

/** Entries of the other side with e's inode (same device, same type). */
function counterparts(e: ManifestEntry, index: InodeIndex, reader: StateReader): ManifestEntry[] {
  const out: ManifestEntry[] = [];
  for (const ref of index.lookup(e.ino)) {
    const c = decodeEntry(reader.at(ref), reader);
    if (sameKind(e, c)) out.push(c);
  }
  return out;
}

/** A single name before and after: a rename can carry it (hard-linked files are linked anew instead). */
function movable(a: ManifestEntry, b: ManifestEntry): boolean {
  return isDir(a) || (a.nlink === 1 && b.nlink === 1);
}

export type OldFate = 'kept' | 'moved' | 'gone' | 'replaced';

/** What became of an entry of the last run, by inode only. */
function oldFateByInode(o: ManifestEntry, s: Sides): 'kept' | 'moved' | 'gone' {
  const now = counterparts(o, s.newIndex, s.draft);
  if (now.some((n) => samePlace(o, n))) return 'kept';
  if (now.length !== 1 || !movable(o, now[0]!)) return 'gone';
  const back = newOriginByInode(now[0]!, s); // the same question from the other side: never stash what pass 2 would not take back
  return back.kind === 'moved' && samePlace(back.old, o) ? 'moved' : 'gone';
}

export type NewOrigin = { kind: 'kept' | 'moved'; old: ManifestEntry } | { kind: 'new' };

function newOriginByInode(n: ManifestEntry, s: Sides): NewOrigin {
  const before = counterparts(n, s.oldIndex, s.old);
  const kept = before.find((o) => samePlace(o, n));
  if (kept !== undefined) return { kind: 'kept', old: kept };
  if (before.length === 1 && movable(before[0]!, n)) return { kind: 'moved', old: before[0]! };
  return { kind: 'new' };
}

/** A regular file with one name: the kind an editor's save or sed -i replaces by a new inode. */
function singleFile(e: ManifestEntry): boolean {
  return (e.mode & S_IFMT) === S_IFREG && e.nlink === 1;
}

/** The single-name regular file at e's place (parent inode and name) on the other side, if any. */
function atSamePlace(e: ManifestEntry, byName: InodeIndex, reader: StateReader): ManifestEntry | undefined {
  for (const ref of byName.lookup(placeKey(e.parent, e.name))) {
    const c = decodeEntry(reader.at(ref), reader);
    if (samePlace(c, e) && c.dev === e.dev && singleFile(c)) return c;
  }
  return undefined;
}

/**
 * What became of an entry of the last run: kept, moved (to the stash and back), gone, or replaced
 * (a single-name file whose name now holds a new single-name file: that one is sent as a delta
 * against it, the way rsync compares by name, instead of whole).
 */
export function oldFate(o: ManifestEntry, s: Sides): OldFate {
  const fate = oldFateByInode(o, s);
  if (fate !== 'gone' || !singleFile(o)) return fate;
  const n = atSamePlace(o, s.newByName, s.draft);
  return n !== undefined && newOriginByInode(n, s).kind === 'new' ? 'replaced' : 'gone';
}

/** Where an entry of this run comes from (a replaced file counts as kept: its old content is there). */
export function newOrigin(n: ManifestEntry, s: Sides | undefined): NewOrigin {
  if (s === undefined) return { kind: 'new' };
  const origin = newOriginByInode(n, s);
  if (origin.kind !== 'new' || !singleFile(n)) return origin;
  const o = atSamePlace(n, s.oldByName, s.old);
  return o !== undefined && oldFateByInode(o, s) === 'gone' ? { kind: 'kept', old: o } : origin;
}

/** Index key of a place (parent inode, name): 48 bits of xxh64; lookups compare the place itself. */
export function placeKey(parent: number, name: Buffer): number {
  const b = Buffer.allocUnsafe(8 + name.length);
  b.writeDoubleLE(parent, 0);
  name.copy(b, 8);
  return hashBytes(b).readUIntLE(0, 6);
}

/** The stash name of a moved entry (one component under .rill/stash). */
export function stashPath(e: ManifestEntry): string {
  return `.rill/stash/${e.dev}.${e.ino}`;
}
