// The capture root, checked before anything is written: it must exist and be a listable directory
// (a tree), or a regular file or block device (a volume, captured by blocks). Its identity goes
// into the stream header and the state file.
import { accessSync, constants, statSync, type BigIntStats } from 'node:fs';
import { resolve } from 'node:path';
import { RillError } from '../errors.js';
import { S_IFMT, S_IFREG } from './walk.js';

const S_IFBLK = 0o060000;

/** A checked capture root: as given, as an absolute path, and its stat (a symlink to it is followed). */
export interface ScanRoot {
  path: string;
  abs: string;
  st: BigIntStats;
  kind: 'tree' | 'volume';
}

/** Checks ROOT; errors name it and say what to do. */
export function openScanRoot(root: string): ScanRoot {
  const abs = resolve(root);
  let st: BigIntStats;
  try {
    st = statSync(abs, { bigint: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'does not exist' : code === 'EACCES' ? 'is not accessible' : (err as Error).message;
    throw new RillError('io', `capture root ${JSON.stringify(root)} ${why}`, { path: root, cause: err, hint: 'name an existing directory' });
  }
  if (!st.isDirectory()) {
    const type = Number(st.mode) & S_IFMT;
    if (type === S_IFREG || type === S_IFBLK) return { path: root, abs, st, kind: 'volume' };
    throw new RillError('usage', `capture root ${JSON.stringify(root)} is not a directory, regular file or block device`, { path: root, hint: 'name a directory (a tree) or a file or block device (a volume)' });
  }
  try {
    accessSync(abs, constants.R_OK | constants.X_OK);
  } catch (err) {
    throw new RillError('io', `capture root ${JSON.stringify(root)} cannot be listed`, { path: root, cause: err, hint: 'run as a user who can read it' });
  }
  return { path: root, abs, st, kind: 'tree' };
}
