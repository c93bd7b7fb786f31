// FIFREEZE and FITHAW on a mounted file system, through an fd of its mount point held open for the
// whole freeze (the same file system is thawed even if something is mounted over the path meanwhile).
import { closeSync, constants, openSync } from 'node:fs';
import { RillError } from '../errors.js';
import { sys } from '../sys/native.js';
import type { FileSystem } from './mounts.js';

/** Opens the mount point (a directory open reads nothing and writes nothing: fine on a frozen file system). */
export function openMountPoint(fs: FileSystem): number {
  try {
    return openSync(fs.mountPoint, constants.O_RDONLY | constants.O_DIRECTORY);
  } catch (err) {
    throw new RillError('io', `cannot open the mount point ${JSON.stringify(fs.mountPoint)}: ${(err as Error).message}`, { path: fs.mountPoint, cause: err });
  }
}

/** Freezes the file system open at fd: new writes block, dirty data is written, the journal is clean. */
export function freezeAt(fd: number, fs: FileSystem): void {
  try {
    sys.freezeFs(fd);
  } catch (err) {
    throw freezeError(err, fs);
  }
}

/**
 * Thaws the file system open at fd. Returns false when it was not frozen (EINVAL: someone, e.g.
 * the watchdog, thawed it already); throws on any other failure.
 */
export function thawAt(fd: number, fs: FileSystem): boolean {
  try {
    sys.thawFs(fd);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') return false;
    throw new RillError('io', `cannot thaw ${describeFs(fs)}: ${(err as Error).message}`, {
      path: fs.mountPoint, cause: err, hint: `run 'fsfreeze --unfreeze ${fs.mountPoint}' as root`,
    });
  }
}

export function closeMountPoint(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // nothing to undo
  }
}

/** "/srv (ext4 on /dev/vdb)": how messages name a file system. */
export function describeFs(fs: FileSystem): string {
  return `${fs.mountPoint} (${fs.fstype} on ${fs.source})`;
}

function freezeError(err: unknown, fs: FileSystem): RillError {
  const code = (err as NodeJS.ErrnoException).code;
  const where = describeFs(fs);
  switch (code) {
    case 'EOPNOTSUPP':
    case 'ENOTTY':
    case 'ENOTSUP':
      return new RillError('io', `${where} does not support freezing (${fs.fstype} has no FIFREEZE)`, {
        path: fs.mountPoint, cause: err,
        hint: fs.fstype.startsWith('fuse') ? 'if it is a rill capture --mount, pass --control SOCK to pause it instead' : 'freeze a file system that supports it (ext4, xfs, btrfs, ...), or quiesce the application with --pre/--post only',
      });
    case 'EBUSY':
      return new RillError('busy', `${where} is frozen already (by another rill freeze or fsfreeze)`, { path: fs.mountPoint, cause: err, hint: 'wait for it to be thawed' });
    case 'EPERM':
    case 'EACCES':
      return new RillError('io', `freezing ${where} needs root (CAP_SYS_ADMIN)`, { path: fs.mountPoint, cause: err });
    default:
      return new RillError('io', `cannot freeze ${where}: ${(err as Error).message}`, { path: fs.mountPoint, cause: err });
  }
}
