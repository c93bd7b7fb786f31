// An exclusive lock on a file: flock(LOCK_EX | LOCK_NB), held as long as its descriptor is open (a
// dead holder releases it); the holder writes its pid into the file so a refused process can name it.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import { RillError, ioError } from '../errors.js';
import { sys } from './native.js';

/** Why: a held lock is a descriptor to close; closing it (or dying) releases the lock. */
export interface FileLock {
  release(): void;
}

/**
 * Why: one writer per journal, one replay per replica. Refuses with kind 'busy' naming the pid that
 * holds `path`; `what` names the thing locked in that message, `hint` says what to do.
 */
export function lockFile(path: string, what: string, hint: string): FileLock {
  let fd: number;
  try {
    fd = openSync(path, 'a+', 0o644);
  } catch (err) {
    throw ioError(`cannot open the lock of ${what}`, path, err);
  }
  let locked: boolean;
  try {
    locked = sys.flockExclusive(fd);
  } catch (err) {
    closeSync(fd);
    throw ioError(`cannot lock ${what}`, path, err);
  }
  if (!locked) {
    closeSync(fd);
    const pid = holder(path);
    throw new RillError('busy', `${what} is in use by ${pid === undefined ? 'another process' : `process ${pid}`} (it holds ${JSON.stringify(path)})`, { path, hint });
  }
  try {
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
  } catch (err) {
    closeSync(fd);
    throw ioError(`cannot write the lock of ${what}`, path, err);
  }
  let open = true;
  return {
    release() {
      if (!open) return;
      open = false;
      closeSync(fd);
    },
  };
}

/** The pid written in the lock file, if it reads as one. */
function holder(path: string): number | undefined {
  try {
    const text = readFileSync(path, 'utf8').trim();
    return /^\d+$/.test(text) ? Number(text) : undefined;
  } catch {
    return undefined;
  }
}
