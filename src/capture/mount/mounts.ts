// What is mounted where (/proc/self/mountinfo): a FUSE mount in the way is refused when it is
// live and cleaned up when it is stale (its daemon died: every access fails with ENOTCONN).
import { readFileSync, statfsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { RillError } from '../../errors.js';

export interface MountEntry {
  mountpoint: string;
  fstype: string;
  source: string;
}

/** Octal escapes of mountinfo (\040 for a space ...). */
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** The mount table of this process's namespace. */
export function mountTable(): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    if (line === '') continue;
    const [left, right] = line.split(' - ');
    const f = left!.split(' ');
    const r = (right ?? '').split(' ');
    out.push({ mountpoint: unescape(f[4]!), fstype: r[0]!, source: unescape(r[1] ?? '') });
  }
  return out;
}

/** The topmost mount at exactly this path, if it is a FUSE mount (one below another mount is not in the way, and not ours to detach). */
export function fuseMountAt(path: string): MountEntry | undefined {
  const top = mountTable().filter((m) => m.mountpoint === path).at(-1);
  return top !== undefined && (top.fstype === 'fuse' || top.fstype.startsWith('fuse.') || top.fstype === 'fuseblk') ? top : undefined;
}

/** True when the mount's daemon is gone (ENOTCONN on access; statfs always asks the daemon, stat may be cached). */
function isStale(path: string): boolean {
  try {
    statfsSync(path);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOTCONN';
  }
}

/** Detaches a mount (lazily, so open files do not keep it): fusermount3 for non-root, umount for root. */
export function detach(path: string): boolean {
  const tries: [string, string[]][] = process.getuid?.() === 0 ? [['umount', ['-l', path]], ['fusermount3', ['-u', '-z', path]]] : [['fusermount3', ['-u', '-z', path]]];
  for (const [cmd, args] of tries) {
    const r = spawnSync(cmd, args, { stdio: 'ignore' });
    if (r.status === 0) return true;
  }
  return false;
}

/**
 * Refuses a path that is a live FUSE mount (another capture, or any other FUSE file system: it would
 * stack); cleans a stale one a crashed capture left, saying so. `log` gets one line per cleanup.
 */
export function clearMountpoint(path: string, log: (line: string) => void): void {
  for (let i = 0; i < 8; i++) {
    const m = fuseMountAt(path);
    if (m === undefined) return;
    if (!isStale(path)) {
      throw new RillError('busy', `${path} is already a FUSE mount (${m.fstype}, ${m.source})`, {
        hint: m.fstype === 'fuse.rill' ? 'another rill capture --mount serves it: stop that one first' : 'capture the file system below it, or unmount it first',
      });
    }
    if (!detach(path)) throw new RillError('io', `${path} is a stale FUSE mount (its daemon died) and could not be unmounted`, { hint: `run: umount -l ${path}` });
    log(`cleaned up a stale FUSE mount on ${path} (${m.fstype}) left by a process that died`);
  }
}
