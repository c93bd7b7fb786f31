// Loop-mounted file system images for freeze tests: mkfs on a sparse file in /var/tmp, mount -o loop,
// and always unmount (which detaches the loop device) in the returned cleanup, thawing first in
// case a test failed while it was frozen. Only these images are ever frozen by the tests.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, requireCapability } from '../helpers/tree.js';

export type FsType = 'ext4' | 'xfs';

export interface LoopFs {
  /** The mount point. */
  dir: string;
  type: FsType;
  cleanup: () => void;
}

const MKFS: Record<FsType, string[]> = { ext4: ['mkfs.ext4', '-q', '-F'], xfs: ['mkfs.xfs', '-q', '-f'] };
/** xfs needs 300 MiB at least. */
const SIZE: Record<FsType, number> = { ext4: 64 << 20, xfs: 320 << 20 };

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** Whether this machine can make loop-mounted file systems of the type (root, loop devices, mkfs). */
export function canLoopMount(type: FsType): boolean {
  return isRoot && has(MKFS[type][0]!) && has('losetup') && spawnSync('losetup', ['--find'], { stdio: 'ignore' }).status === 0;
}

/** Skips (or, under CI=true, fails) the test without loop-mount capability. */
export function requireLoop(t: { skip: (msg: string) => void }, type: FsType): boolean {
  return requireCapability(t, canLoopMount(type), `root, loop devices and mkfs.${type}`);
}

/** A fresh file system of the type, mounted at a new directory under /var/tmp. */
export function loopFs(type: FsType): LoopFs {
  const base = mkdtempSync('/var/tmp/rill-freeze-');
  const image = join(base, `${type}.img`);
  const dir = join(base, 'mnt');
  writeFileSync(image, '');
  truncateSync(image, SIZE[type]);
  execFileSync(MKFS[type][0]!, [...MKFS[type].slice(1), image], { stdio: 'ignore' });
  execFileSync('mkdir', [dir]);
  execFileSync('mount', ['-o', 'loop', image, dir]);
  return {
    dir,
    type,
    cleanup: () => {
      spawnSync('fsfreeze', ['--unfreeze', dir], { stdio: 'ignore' }); // EINVAL when not frozen: fine
      const r = spawnSync('umount', [dir], { stdio: 'ignore' });
      if (r.status !== 0) spawnSync('umount', ['-l', dir], { stdio: 'ignore' });
      rmSync(base, { recursive: true, force: true });
    },
  };
}
