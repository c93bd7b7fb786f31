// Directory listings in the order a scan emits them (byte order of names), the kinds of entries, and
// absolute paths for node:fs. Synchronous calls: for many small operations they beat the thread pool.
import { readdirSync, type Dirent } from 'node:fs';
import { fsPath } from '../stream/path.js';

/** What the scan does with an entry; 'unknown' means the listing did not say (lstat to find out). */
export type EntryKind = 'dir' | 'file' | 'symlink' | 'special' | 'unknown';

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;

/** A directory's entries sorted by the bytes of their names: the one listing a scan holds per level. */
export function listDir(abs: string | Buffer): Dirent<Buffer>[] {
  const entries = readdirSync(abs, { withFileTypes: true, encoding: 'buffer' }) as unknown as Dirent<Buffer>[];
  entries.sort((a, b) => Buffer.compare(a.name, b.name));
  return entries;
}

/** The kind the listing reports (d_type), without a system call. */
export function direntKind(d: Dirent<Buffer>): EntryKind {
  if (d.isFile()) return 'file';
  if (d.isDirectory()) return 'dir';
  if (d.isSymbolicLink()) return 'symlink';
  if (d.isFIFO() || d.isCharacterDevice() || d.isBlockDevice() || d.isSocket()) return 'special';
  return 'unknown';
}

/** The kind of an entry from its st_mode. */
export function modeKind(mode: number): EntryKind {
  switch (mode & S_IFMT) {
    case S_IFDIR:
      return 'dir';
    case S_IFREG:
      return 'file';
    case S_IFLNK:
      return 'symlink';
    default:
      return 'special';
  }
}

/** Absolute paths of entries below one root, as node:fs takes them (bytes where a name is not UTF-8). */
export class RootPaths {
  private readonly prefix: string;

  constructor(readonly root: string) {
    this.prefix = root.endsWith('/') ? root : `${root}/`;
  }

  /** The absolute path of a relative Path ('' is the root itself). */
  abs(path: string): string | Buffer {
    return fsPath(path === '' ? this.root : this.prefix + path);
  }
}
