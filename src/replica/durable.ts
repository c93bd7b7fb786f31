// --fsync: which directories gained or lost names since the last commit, synced at the commit so
// renamed-in files survive a power cut, not just a killed process.
import { closeSync, constants, fsyncSync, openSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import type { Confine } from './confine.js';

/** More dirty directories than this between commits: sync the whole file system instead. */
const DIRTY_LIMIT = 4096;

/** Tracks directories to fsync at the next commit (a no-op unless enabled). */
export class Durable {
  private readonly dirs = new Set<string>();
  private overflow = false;

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

  /** fsyncs a file descriptor when enabled. */
  file(fd: number): void {
    if (this.enabled) fsyncSync(fd);
  }

  /** Makes the noted directories durable (deepest first does not matter for fsync). */
  flush(): void {
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
