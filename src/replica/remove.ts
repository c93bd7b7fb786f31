// Removing an entry the replica must not keep, with everything in it: names as bytes, never through a
// symlink (a symlink is removed itself), never into another file system (a mount point is refused).
import { chmodSync, lstatSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { RillError, ioError } from '../errors.js';
import { bytesToPath, joinPath, showPath } from '../stream/path.js';

const SLASH = Buffer.from('/');

/**
 * Removes the entry at root-relative `path` (absolute fs path `abs`), a directory with its whole subtree.
 * `dev` is the device of the directory holding it; `privileged` false gives directories u+rwx first
 * so their entries can be removed. Returns the number of entries removed.
 */
export function removeTree(path: string, abs: string | Buffer, dev: number, privileged: boolean): number {
  const at = typeof abs === 'string' ? Buffer.from(abs) : abs;
  let st;
  try {
    st = lstatSync(at, { throwIfNoEntry: false });
    if (st === undefined) return 0;
    if (!st.isDirectory()) {
      unlinkSync(at);
      return 1;
    }
  } catch (err) {
    throw ioError('cannot remove', path, err);
  }
  if (st.dev !== dev) throw mountPoint(path);
  let removed = 0;
  try {
    if (!privileged && (st.mode & 0o700) !== 0o700) chmodSync(at, (st.mode | 0o700) & 0o7777);
    for (const name of readdirSync(at, { encoding: 'buffer' })) {
      removed += removeTree(joinPath(path, bytesToPath(name)), Buffer.concat([at, SLASH, name]), st.dev, privileged);
    }
    rmdirSync(at);
  } catch (err) {
    if (err instanceof RillError) throw err;
    throw ioError('cannot remove', path, err);
  }
  return removed + 1;
}


/** The refusal to remove a directory where another file system is mounted. */
export function mountPoint(path: string): RillError {
  return new RillError('unsafe', `refused to remove ${showPath(path)}: another file system is mounted there`, {
    path,
    hint: 'replay never removes across file systems: unmount it, or remove it from the replica yourself',
  });
}
