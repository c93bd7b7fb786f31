// --fsync: which directories gained or lost names since the last commit, synced at the commit so
// renamed-in files survive a power cut, not just a killed process.
import { closeSync, constants, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { ioError } from '../errors.js';
import { execFileSync } from 'node:child_process';
import type { Confine } from './confine.js';

/** More dirty directories than this between commits: sync the whole file system instead. */
const DIRTY_LIMIT = 4096;
/**
 * More files than this written between commits: the rest are not fsynced one by one but by one
 * syncfs at the commit (a scan's 20,000 files cost 20,000 fsyncs, each a journal commit of the
 * replica's file system, otherwise: 6 times the whole copy's time).
 */
const FILE_LIMIT = 32;

/** Tracks directories to fsync at the next commit (a no-op unless enabled). */
export class Durable {
  private readonly dirs = new Set<string>();
  private overflow = false;
  private files = 0;

  constructor(
    private readonly confine: Confine,
    readonly enabled: boolean,
  ) {}

  /** Notes that entries of the directory (a root-relative Path) changed. */
  touched(dir: string): void {
    if (!this.enabled || this.overflow) return;
    this.dirs.add(dir);
    if (this.dirs.size > DIRTY_LIMIT) {
      this.overflow = true;
      this.dirs.clear();
    }
  }

  /** Makes a written file's data durable by the next commit (now, or by the commit's syncfs). */
  file(fd: number): void {
    if (!this.enabled) return;
    if (++this.files <= FILE_LIMIT) fsyncSync(fd);
    else this.overflow = true;
  }

  /** Makes the noted directories durable (deepest first does not matter for fsync). */
  flush(): void {
    this.files = 0;
    if (this.overflow) {
      execFileSync('sync', ['-f', this.confine.root], { stdio: 'ignore' });
      this.overflow = false;
      return;
    }
    for (const dir of this.dirs) syncDir(this.confine.abs(dir));
    this.dirs.clear();
  }
}

/** fsync of a directory (never through a symlink). */
export function syncDir(abs: string | Buffer): void {
  const fd = openSync(abs, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Replaces file with text atomically and durably: written to tmp, fsynced, renamed over file, the
 * directory fsynced; a crash leaves the old content or the new. Used for every progress record.
 */
export function replaceDurably(tmp: string | Buffer, file: string | Buffer, dir: string | Buffer, text: string): void {
  try {
    const fd = openSync(tmp, constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    try {
      writeSync(fd, text);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, file);
    syncDir(dir);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // not created or already renamed
    }
    throw ioError('cannot write replica state', file.toString(), err);
  }
}
