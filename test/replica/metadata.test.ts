// Metadata lands exactly: owners (as root), ns times, directory times that survive their children,
// setuid bits across chown, sparse holes, and directory modes that would lock an unprivileged replay out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';
import { applyRecords } from '../../src/replica/index.js';
import { feed, replay, stream } from './helpers.js';

const T1 = 1_732_500_000_123_456_789n;
const T2 = 1_600_000_000_000_000_001n;
const ns = (p: string) => lstatSync(p, { bigint: true });

test('ownership is applied as root: files (pending and existing), directories, symlinks, nodes', async (t) => {
  if (!requireCapability(t, isRoot, 'root')) return;
  const { dir, cleanup } = tempDir();
  try {
    await replay(dir, [
      { type: 'create', path: 'f', mode: 0o644 },
      { type: 'chown', path: 'f', uid: 1001, gid: 1002 },
      { type: 'mkdir', path: 'd', mode: 0o755 },
      { type: 'chown', path: 'd', uid: 1003, gid: 1004 },
      { type: 'symlink', path: 'l', target: 'f' },
      { type: 'chown', path: 'l', uid: 1005, gid: 1006 },
      { type: 'mknod', path: 'p', mode: 0o010644, rdev: 0 },
      { type: 'chown', path: 'p', uid: 1007, gid: 1008 },
      { type: 'chown', path: '', uid: 1009, gid: 1010 },
    ]);
    const own = (p: string) => { const s = lstatSync(join(dir, p)); return [s.uid, s.gid]; };
    assert.deepEqual([own('f'), own('d'), own('l'), own('p'), own('')], [[1001, 1002], [1003, 1004], [1005, 1006], [1007, 1008], [1009, 1010]]);
    assert.deepEqual(own('.rill').slice(0, 1), [0], 'the state directory keeps its owner');
  } finally {
    cleanup();
  }
});

test('--no-owner skips chown events silently', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { log } = await replay(dir, [{ type: 'create', path: 'f', mode: 0o644 }, { type: 'chown', path: 'f', uid: 1001, gid: 1002 }], { owner: false });
    assert.equal(lstatSync(join(dir, 'f')).uid, process.geteuid!());
    assert.deepEqual(log, []);
  } finally {
    cleanup();
  }
});

test('setuid and setgid bits survive a chown (the kernel clears them), pending or existing', async (t) => {
  if (!requireCapability(t, isRoot, 'root')) return;
  const { dir, cleanup } = tempDir();
  try {
    await replay(dir, [
      { type: 'create', path: 'pending', mode: 0o6755 },
      { type: 'chown', path: 'pending', uid: 1001, gid: 1001 },
      { type: 'create', path: 'existing', mode: 0o4755 },
      { type: 'commit' },
      { type: 'chown', path: 'existing', uid: 1001, gid: 1001 },
    ]);
    assert.equal(lstatSync(join(dir, 'pending')).mode & 0o7777, 0o6755);
    assert.equal(lstatSync(join(dir, 'existing')).mode & 0o7777, 0o4755);
  } finally {
    cleanup();
  }
});

test('times are exact to the nanosecond, before 1970 too, for files, symlinks and directories', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await replay(dir, [
      { type: 'create', path: 'f', mode: 0o644 },
      { type: 'write', path: 'f', offset: 0, data: Buffer.from('x') },
      { type: 'utimes', path: 'f', atime: T2, mtime: T1 },
      { type: 'symlink', path: 'l', target: 'f' },
      { type: 'utimes', path: 'l', atime: -1_000_000_001n, mtime: -123_456_789n },
      { type: 'mkdir', path: 'd', mode: 0o755 },
      { type: 'utimes', path: 'd', atime: T1, mtime: T2 },
    ]);
    assert.deepEqual([ns(join(dir, 'f')).mtimeNs, ns(join(dir, 'f')).atimeNs], [T1, T2]);
    assert.deepEqual([ns(join(dir, 'l')).mtimeNs, ns(join(dir, 'l')).atimeNs], [-123_456_789n, -1_000_000_001n]);
    assert.equal(ns(join(dir, 'd')).mtimeNs, T2);
  } finally {
    cleanup();
  }
});

test('directory times set before their children are created survive them (applied at commit, deepest first)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await replay(dir, [
      { type: 'mkdir', path: 'd', mode: 0o755 },
      { type: 'utimes', path: 'd', atime: T1, mtime: T1 },
      { type: 'utimes', path: '', atime: T2, mtime: T2 },
      { type: 'mkdir', path: 'd/sub', mode: 0o755 },
      { type: 'utimes', path: 'd/sub', atime: T2, mtime: T2 },
      { type: 'create', path: 'd/sub/f', mode: 0o644 },
      { type: 'write', path: 'd/sub/f', offset: 0, data: Buffer.from('x') },
      { type: 'create', path: 'd/g', mode: 0o644 },
      { type: 'mkdir', path: 'moving', mode: 0o755 },
      { type: 'utimes', path: 'moving', atime: T1, mtime: T1 },
      { type: 'rename', path: 'moving', to: 'moved' },
      { type: 'commit' },
    ]);
    assert.equal(ns(join(dir, 'd')).mtimeNs, T1);
    assert.equal(ns(join(dir, 'd/sub')).mtimeNs, T2);
    assert.equal(ns(dir).mtimeNs, T2);
    assert.equal(ns(join(dir, 'moved')).mtimeNs, T1, 'owed times follow a renamed directory');
  } finally {
    cleanup();
  }
});

test('punch makes a hole: zeros read back, blocks are freed, the size stays', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const MiB = 1 << 20;
    await replay(dir, [
      { type: 'create', path: 'f', mode: 0o644 },
      { type: 'write', path: 'f', offset: 0, data: Buffer.alloc(2 * MiB, 0xaa) },
      { type: 'commit' },
      { type: 'punch', path: 'f', offset: MiB / 2, length: MiB },
      { type: 'create', path: 'sparse', mode: 0o644 },
      { type: 'punch', path: 'sparse', offset: 0, length: 4096 },
      { type: 'truncate', path: 'sparse', size: 8 * MiB },
    ]);
    const st = lstatSync(join(dir, 'f'));
    assert.equal(st.size, 2 * MiB);
    assert.ok(st.blocks * 512 <= 1.1 * MiB, `f still occupies ${st.blocks * 512} bytes`);
    const data = readFileSync(join(dir, 'f'));
    assert.ok(data.subarray(MiB / 2, MiB / 2 + MiB).every((b) => b === 0));
    assert.ok(data.subarray(0, MiB / 2).every((b) => b === 0xaa) && data.subarray(MiB + MiB / 2).every((b) => b === 0xaa));
    assert.equal(lstatSync(join(dir, 'sparse')).blocks, 0);
    assert.equal(lstatSync(join(dir, 'sparse')).size, 8 * MiB);
  } finally {
    cleanup();
  }
});

test('unprivileged: a directory mode without u+wx is kept open until the commit, unless a later chmod wins', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const recs = stream([
      { type: 'mkdir', path: 'ro', mode: 0o555 },
      { type: 'create', path: 'ro/f', mode: 0o444 },
      { type: 'mkdir', path: 'later', mode: 0o500 },
      { type: 'chmod', path: 'later', mode: 0o751 },
      { type: 'commit' },
    ]);
    const during: number[] = [];
    const mode = (p: string) => lstatSync(join(dir, p)).mode & 0o7777;
    await applyRecords(feed(recs, (i) => { if (i === 3) during.push(mode('ro')); }), dir, { privileged: false, log: () => {} });
    assert.deepEqual(during, [0o755]);
    assert.equal(mode('ro'), 0o555);
    assert.equal(mode('later'), 0o751);
    assert.equal(mode('ro/f'), 0o444);
  } finally {
    cleanup();
  }
});
