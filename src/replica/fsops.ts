// Final-component operations shared by handlers: look without following, refuse a directory in the
// way, and put a new non-directory in place by building it under a temp name and renaming it over.
import { constants, lstatSync, openSync, fstatSync, closeSync, renameSync, unlinkSync, type Stats } from 'node:fs';
import { RillError } from '../errors.js';
import { showPath } from '../stream/path.js';
import type { Confine } from './confine.js';
import { isCrossDevice, type TempNames } from './temp.js';

/** lstat that returns undefined for a missing entry (never follows a final symlink). */
export function lookup(abs: string | Buffer): Stats | undefined {
  return lstatSync(abs, { throwIfNoEntry: false });
}

/** The refusal for a directory that stands where the stream puts a non-directory. */
export function typeConflict(path: string, what: string): RillError {
  return new RillError('unsafe', `${showPath(path)} exists as a directory; the stream creates ${what} there`, {
    path,
    hint: 'replay never removes a directory implicitly: remove or rename it in the replica, or replay into an empty root',
  });
}

/**
 * What stands at abs, refusing a directory (the stream is about to put a non-directory there) unless
 * `replaceDir` removes it (a full stream: the directory is not part of its tree).
 */
export function nonDirSlot(path: string, abs: string | Buffer, what: string, replaceDir?: (path: string) => boolean): Stats | undefined {
  const st = lookup(abs);
  if (st?.isDirectory()) {
    if (replaceDir?.(path) === true) return undefined;
    throw typeConflict(path, what);
  }
  return st;
}

/**
 * Creates a non-directory at path with `make(fsPath)`: directly when the name is free, else under a
 * temp name renamed over the old entry, so the name never disappears. EXDEV retries beside the target.
 */
export function putInPlace(
  confine: Confine,
  temps: TempNames,
  path: string,
  what: string,
  make: (abs: string | Buffer) => void,
  replaceDir?: (path: string) => boolean,
): void {
  const abs = confine.resolve(path, false);
  if (nonDirSlot(path, abs, what, replaceDir) === undefined) return make(abs);
  for (;;) {
    const temp = temps.for(path);
    const tmpAbs = confine.abs(temp.path);
    try {
      make(tmpAbs);
      renameSync(tmpAbs, abs);
      return;
    } catch (err) {
      try {
        unlinkSync(tmpAbs);
      } catch {
        // not created, or already renamed
      }
      if (!(temp.shared && isCrossDevice(err))) throw err;
      temps.crossDevice(path);
    }
  }
}

/** Flags for opening an existing replica file: never through a final symlink, never blocking on a fifo. */
const OPEN_EXISTING = constants.O_NOFOLLOW | constants.O_NONBLOCK;

/**
 * Opens an existing regular file of the replica. Anything else (symlink, device, fifo, directory) is
 * refused before it is opened: opening a device node the stream made could reach real hardware.
 */
export function openRegular(path: string, abs: string | Buffer, flags: number, doing: string): number {
  const st = lookup(abs);
  if (st === undefined) {
    throw new RillError('io', `${doing} ${showPath(path)}: no such file in the replica`, {
      path,
      hint: 'the replica has diverged from the stream; replay a full stream',
    });
  }
  if (!st.isFile()) {
    throw new RillError('unsafe', `refused to ${doing} ${showPath(path)}: it is a ${kindOf(st)} in the replica, not a regular file`, { path });
  }
  const fd = openSync(abs, flags | OPEN_EXISTING);
  const now = fstatSync(fd);
  if (now.ino !== st.ino || now.dev !== st.dev) {
    closeSync(fd);
    throw new RillError('unsafe', `refused to ${doing} ${showPath(path)}: it changed while being opened`, { path });
  }
  return fd;
}

/** A word for an entry's type, for messages. */
export function kindOf(st: Stats): string {
  if (st.isDirectory()) return 'directory';
  if (st.isSymbolicLink()) return 'symbolic link';
  if (st.isFile()) return 'regular file';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  if (st.isCharacterDevice()) return 'character device';
  if (st.isBlockDevice()) return 'block device';
  return 'special file';
}
