// One writer per journal directory: an exclusive lock on DIR/lock (src/sys/lock.ts).
import { join } from 'node:path';
import { lockFile, type FileLock } from '../sys/lock.js';

/** Why: a held lock is a descriptor to close; closing it (or dying) releases the lock. */
export type JournalLock = FileLock;

/** Why: refuses a second writer with kind 'busy', naming the pid that holds DIR/lock. */
export function lockJournal(dir: string): JournalLock {
  return lockFile(join(dir, 'lock'), `journal ${JSON.stringify(dir)}`, 'a journal has one writer at a time: stop that process, or use another directory');
}
