// Where new entries are built before being renamed into place: ROOT/.rill/tmp when it shares a file
// system with the target directory, else a `.rill-tmp-*` name beside the target.
import { readdirSync, rmSync } from 'node:fs';
import { parentPath, joinPath } from '../stream/path.js';
import type { Confine } from './confine.js';
import { STATE_DIR } from './confine.js';

/** Root-relative directory for temporary files. */
export const TMP_DIR = `${STATE_DIR}/tmp`;
/** Prefix of a temp name made beside its target (when .rill/tmp is on another file system). */
export const LOCAL_TMP_PREFIX = '.rill-tmp-';

/** A temporary name: its root-relative Path and whether it lives in .rill/tmp. */
export interface TempName {
  path: string;
  shared: boolean;
}

/** Hands out unique temp names; names carry the pid so a later run can tell stale ones. */
export class TempNames {
  private n = 0;
  /** Devices where a rename out of .rill/tmp failed with EXDEV (a bind mount): build beside the target there. */
  private readonly crossDevices = new Set<number>();

  constructor(
    private readonly confine: Confine,
    private readonly tmpDev: number,
  ) {}

  /** A fresh temp name for an entry that will be renamed to `target` (whose ancestors are verified). */
  for(target: string): TempName {
    const dev = this.confine.parentDev(target);
    const id = `${process.pid}.${++this.n}`;
    if (dev === this.tmpDev && !this.crossDevices.has(dev)) return { path: `${TMP_DIR}/${id}`, shared: true };
    return { path: joinPath(parentPath(target), `${LOCAL_TMP_PREFIX}${id}`), shared: false };
  }

  /** Records that renames from .rill/tmp to target's file system fail (EXDEV); later names go beside targets. */
  crossDevice(target: string): void {
    this.crossDevices.add(this.confine.parentDev(target));
  }
}

/** True when err is EXDEV (rename or link across mount points). */
export function isCrossDevice(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'EXDEV';
}

/** Removes temp files in .rill/tmp left by replays that are no longer running (killed, crashed). */
export function removeStaleTemps(confine: Confine): number {
  let removed = 0;
  for (const name of readdirSync(confine.abs(TMP_DIR))) {
    const pid = Number(/^(\d+)\./.exec(name)?.[1]);
    if (Number.isInteger(pid) && pid !== process.pid && isAlive(pid)) continue;
    rmSync(confine.abs(`${TMP_DIR}/${name}`), { recursive: true, force: true });
    removed++;
  }
  return removed;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
