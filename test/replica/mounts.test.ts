// Real mounts: a full disk is an io error naming the path with nothing left behind; a file system
// mounted inside the replica gets its temp files beside the target (rename cannot cross mounts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';
import { sys } from '../../src/sys/native.js';
import type { EventInput } from '../../src/stream/events.js';
import { rejectsWith, replay, temps } from './helpers.js';

function mount(args: string[]): boolean {
  try {
    execFileSync('mount', args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const umount = (dir: string) => execFileSync('umount', [dir], { stdio: 'ignore' });

/** A file of n bytes written in 64 KiB events, with an xattr and times, then a commit. */
function bigFile(path: string, n: number): EventInput[] {
  const events: EventInput[] = [{ type: 'create', path, mode: 0o640 }];
  for (let at = 0; at < n; at += 65536) events.push({ type: 'write', path, offset: at, data: Buffer.alloc(Math.min(65536, n - at), 0x5a) });
  events.push({ type: 'setxattr', path, name: 'user.k', value: Buffer.from('v') }, { type: 'utimes', path, atime: 5n, mtime: 7_000_000_007n });
  return [...events, { type: 'commit' }];
}

test('ENOSPC: an io error naming the path; no temp file and no partial file are left', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    if (!requireCapability(t, isRoot && mount(['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]), 'root and mount -t tmpfs')) return;
    try {
      const root = join(dir, 'replica');
      const err = await rejectsWith(replay(root, bigFile('big', 3 << 20)), 'io', /write "big": no space left on device.*ENOSPC/);
      assert.equal(err.path, 'big');
      assert.equal(existsSync(join(root, 'big')), false);
      assert.deepEqual(temps(root), []);
      await replay(root, bigFile('small', 100_000)); // the space came back
      assert.equal(lstatSync(join(root, 'small')).size, 100_000);
    } finally {
      umount(dir);
    }
  } finally {
    cleanup();
  }
});

test('a tmpfs mounted inside the replica: temp files are made beside the target, never left', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'root');
    mkdirSync(join(root, 'mnt'), { recursive: true });
    if (!requireCapability(t, isRoot && mount(['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', join(root, 'mnt')]), 'root and mount -t tmpfs')) return;
    try {
      const seen: string[][] = [];
      await replay(root, [...bigFile('mnt/f', 200_000), { type: 'symlink', path: 'mnt/f', target: 'x' }, { type: 'symlink', path: 'mnt/f', target: 'y' }]);
      assert.equal(lstatSync(join(root, 'mnt/f')).isSymbolicLink(), true);
      await replay(root, bigFile('mnt/g', 200_000));
      seen.push(readdirSync(join(root, 'mnt')).sort());
      assert.deepEqual(seen, [['f', 'g']], 'no .rill-tmp-* left beside the targets');
      assert.equal(readFileSync(join(root, 'mnt/g')).length, 200_000);
      assert.deepEqual(temps(root), []);
    } finally {
      umount(join(root, 'mnt'));
    }
  } finally {
    cleanup();
  }
});

test('a bind mount inside the replica (same device, rename gives EXDEV): the file is copied across whole', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'root');
    const src = join(dir, 'elsewhere');
    mkdirSync(join(root, 'bound'), { recursive: true });
    mkdirSync(src);
    if (!requireCapability(t, isRoot && mount(['--bind', src, join(root, 'bound')]), 'root and mount --bind')) return;
    try {
      const events = bigFile('bound/f', 300_000);
      events.splice(1, 0, { type: 'truncate', path: 'bound/f', size: 4 << 20 }); // a hole past the data
      events.splice(-1, 0, { type: 'chown', path: 'bound/f', uid: 1234, gid: 4321 });
      await replay(root, [...events, { type: 'link', path: 'bound/h', target: 'bound/f' }]);
      const st = lstatSync(join(root, 'bound/f'), { bigint: true });
      assert.deepEqual([st.size, st.mtimeNs, st.uid, st.gid, Number(st.mode) & 0o7777], [4n << 20n, 7_000_000_007n, 1234n, 4321n, 0o640]);
      assert.ok(Number(st.blocks) * 512 < 1 << 20, 'the hole stayed a hole');
      assert.deepEqual(sys.getXattr(join(root, 'bound/f'), 'user.k'), Buffer.from('v'));
      assert.equal(lstatSync(join(root, 'bound/h')).ino, Number(st.ino));
      assert.deepEqual(readdirSync(src).sort(), ['f', 'h']);
      assert.deepEqual(temps(root), []);
    } finally {
      umount(join(root, 'bound'));
    }
  } finally {
    cleanup();
  }
});
