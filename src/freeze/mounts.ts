// Which mounted file system holds a path (from /proc/self/mountinfo): freeze acts on a file system,
// not a directory, and says which one when the path is not its mount point.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import { RillError, ioError } from '../errors.js';

/** A mounted file system. */
export interface FileSystem {
  /** Where it is mounted (the directory FIFREEZE is given). */
  mountPoint: string;
  /** Its type (ext4, xfs, fuse.rill, ...). */
  fstype: string;
  /** Its source (a device such as /dev/loop0, or what the mount was given). */
  source: string;
  /** st_dev of files on it. */
  dev: number;
}

interface MountLine extends FileSystem {
  majorMinor: string;
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
function unescape(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Every mount of this process's mount namespace, in mount order. */
export function readMounts(file = '/proc/self/mountinfo'): MountLine[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw ioError('cannot read the mount table', file, err);
  }
  const out: MountLine[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const f = line.split(' ');
    const dash = f.indexOf('-', 6);
    if (dash < 0 || f.length < dash + 3) continue;
    const [major, minor] = f[2]!.split(':').map(Number) as [number, number];
    // st_dev as Node reports it: the kernel's new_encode_dev.
    const dev = (minor & 0xff) | (major << 8) | ((minor & ~0xff) << 12);
    out.push({ majorMinor: f[2]!, mountPoint: unescape(f[4]!), fstype: f[dash + 1]!, source: unescape(f[dash + 2]!), dev });
  }
  return out;
}

/** True when `inner` is `outer` or below it (by components). */
export function isBelow(inner: string, outer: string): boolean {
  return inner === outer || outer === sep || inner.startsWith(outer.endsWith(sep) ? outer : outer + sep);
}

/** The file system holding path, and whether path is its mount point. */
export function fileSystemOf(path: string): FileSystem & { isMountPoint: boolean; real: string } {
  let real: string;
  try {
    real = realpathSync(path);
  } catch (err) {
    throw ioError('cannot find', path, err);
  }
  const dev = statSync(real).dev;
  // The last mount whose point is an ancestor of the path and whose device is the path's device
  // (a later mount over the same point hides earlier ones).
  let best: MountLine | undefined;
  for (const m of readMounts()) {
    if (m.dev !== dev || !isBelow(real, m.mountPoint)) continue;
    if (best === undefined || m.mountPoint.length >= best.mountPoint.length) best = m;
  }
  if (best === undefined) {
    throw new RillError('io', `cannot tell which file system holds ${JSON.stringify(path)}: no mount of its device is an ancestor of ${JSON.stringify(real)} in /proc/self/mountinfo`, { path });
  }
  return { mountPoint: best.mountPoint, fstype: best.fstype, source: best.source, dev: best.dev, isMountPoint: best.mountPoint === real, real };
}

/** st_dev of a path, or of its nearest existing ancestor (a file a command is about to create). */
export function deviceOf(path: string): { dev: number; at: string } {
  let p = resolve(path);
  for (;;) {
    if (existsSync(p)) return { dev: statSync(p).dev, at: p };
    const up = dirname(p);
    if (up === p) return { dev: statSync(p).dev, at: p };
    p = up;
  }
}
