// The metadata events that follow an entry's content: owner, extended attributes (POSIX ACLs are
// xattrs too), permission bits where needed, and times in ns.
import type { BigIntStats } from 'node:fs';
import { sys } from '../sys/native.js';
import type { EventInput, Path } from '../stream/events.js';
import { bytesToPath } from '../stream/path.js';

/** When a chmod follows chown: always (directories), only to restore set-id bits chown clears, never (symlinks). */
export type ChmodPolicy = 'always' | 'setid' | 'never';

const SETID = 0o6000;
const PERMS = 0o7777;
const NO_XATTRS = new Set(['ENOTSUP', 'EOPNOTSUPP']);

/** An entry's xattrs, names in byte order, read without following a final symlink. */
export interface Xattr {
  name: Buffer;
  value: Buffer;
}

export function readXattrs(abs: string | Buffer): Xattr[] {
  let names: Buffer[];
  try {
    names = sys.listXattr(abs);
  } catch (err) {
    if (NO_XATTRS.has((err as NodeJS.ErrnoException).code ?? '')) return [];
    throw err;
  }
  if (names.length === 0) return [];
  names.sort(Buffer.compare);
  const out: Xattr[] = [];
  for (const name of names) {
    const value = sys.getXattr(abs, name);
    if (value !== null) out.push({ name, value }); // null: removed since it was listed
  }
  return out;
}

/**
 * chown, setxattr (by name), chmod (per policy), utimes. Xattrs come after chown because chown
 * drops security.capability (file capabilities), and before chmod so a read-only mode set last
 * does not stop an unprivileged replay from setting user.* attributes. The xattrs are read before
 * anything is yielded, so a failure leaves no half-emitted metadata.
 */
export function* metadataEvents(path: Path, abs: string | Buffer, st: BigIntStats, chmod: ChmodPolicy, read?: Xattr[]): Generator<EventInput> {
  const xattrs = read ?? readXattrs(abs);
  yield { type: 'chown', path, uid: Number(st.uid), gid: Number(st.gid) };
  for (const x of xattrs) yield { type: 'setxattr', path, name: bytesToPath(x.name), value: x.value };
  const mode = Number(st.mode) & PERMS;
  if (chmod === 'always' || (chmod === 'setid' && (mode & SETID) !== 0)) yield { type: 'chmod', path, mode };
  yield { type: 'utimes', path, atime: st.atimeNs, mtime: st.mtimeNs };
}

/** Permission bits (07777) of a stat. */
export function permissions(st: BigIntStats): number {
  return Number(st.mode) & PERMS;
}
