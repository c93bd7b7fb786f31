// Every event kind applied to a real replica does what rill-stream(5) says.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, readlinkSync, existsSync, readdirSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { sys } from '../../src/sys/native.js';
import { replay, rejectsWith } from './helpers.js';

test('mkdir, create, write, truncate make a tree with exact modes whatever the umask', async () => {
  const { dir, cleanup } = tempDir();
  const old = process.umask(0o077);
  try {
    const root = join(dir, 'new', 'replica'); // created (mkdir -p) by replay
    const { stats } = await replay(root, [
      { type: 'mkdir', path: 'd', mode: 0o775 },
      { type: 'create', path: 'd/f', mode: 0o664 },
      { type: 'write', path: 'd/f', offset: 0, data: Buffer.from('hello world') },
      { type: 'write', path: 'd/f', offset: 6, data: Buffer.from('WORLD!') },
      { type: 'truncate', path: 'd/f', size: 11 },
    ]);
    assert.equal(lstatSync(join(root, 'd')).mode & 0o7777, 0o775);
    assert.equal(lstatSync(join(root, 'd/f')).mode & 0o7777, 0o664);
    assert.equal(readFileSync(join(root, 'd/f'), 'utf8'), 'hello WORLD');
    assert.deepEqual({ events: stats.events, files: stats.files, bytes: stats.bytes }, { events: 5, files: 1, bytes: 17 });
  } finally {
    process.umask(old);
    cleanup();
  }
});

test('writes to an existing file change it in place (same inode), and truncate extends it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await replay(dir, [{ type: 'create', path: 'f', mode: 0o644 }, { type: 'write', path: 'f', offset: 0, data: Buffer.from('abcdef') }]);
    const ino = lstatSync(join(dir, 'f')).ino;
    await replay(dir, [
      { type: 'write', path: 'f', offset: 2, data: Buffer.from('XY') },
      { type: 'truncate', path: 'f', size: 8 },
    ]);
    assert.equal(lstatSync(join(dir, 'f')).ino, ino);
    assert.deepEqual(readFileSync(join(dir, 'f')), Buffer.from('abXYef\0\0'));
  } finally {
    cleanup();
  }
});

test('symlink stores its target verbatim; link makes a second name; mknod makes fifos and devices', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await replay(dir, [
      { type: 'create', path: 'f', mode: 0o600 },
      { type: 'write', path: 'f', offset: 0, data: Buffer.from('x') },
      { type: 'symlink', path: 'abs', target: '/etc/passwd' },
      { type: 'symlink', path: 'raw\udcff', target: '../nowhere\udcfe' },
      { type: 'link', path: 'f2', target: 'f' },
      { type: 'mknod', path: 'fifo', mode: 0o010640, rdev: 0 },
      { type: 'mknod', path: 'null', mode: 0o020600, rdev: 0x103 },
    ]);
    assert.equal(readlinkSync(join(dir, 'abs')), '/etc/passwd');
    assert.deepEqual(readlinkSync(Buffer.from(`${dir}/raw\xff`, 'latin1'), { encoding: 'buffer' }), Buffer.from('../nowhere\xfe', 'latin1'));
    assert.equal(lstatSync(join(dir, 'f2')).ino, lstatSync(join(dir, 'f')).ino);
    assert.equal(lstatSync(join(dir, 'f')).nlink, 2);
    const fifo = lstatSync(join(dir, 'fifo'));
    assert.ok(fifo.isFIFO());
    assert.equal(fifo.mode & 0o7777, 0o640);
    const dev = lstatSync(join(dir, 'null'));
    assert.ok(dev.isCharacterDevice());
    assert.equal(dev.rdev, 0x103);
  } finally {
    cleanup();
  }
});

test('rename, unlink and rmdir; unlink and rmdir of what is already gone are no-ops', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await replay(dir, [
      { type: 'mkdir', path: 'a', mode: 0o755 },
      { type: 'create', path: 'a/f', mode: 0o644 },
      { type: 'mkdir', path: 'gone', mode: 0o755 },
      { type: 'create', path: 'x', mode: 0o644 },
      { type: 'rename', path: 'a', to: 'b' },
      { type: 'rename', path: 'b/f', to: 'b/g' },
      { type: 'unlink', path: 'x' },
      { type: 'rmdir', path: 'gone' },
      { type: 'unlink', path: 'x' },
      { type: 'rmdir', path: 'gone' },
    ]);
    assert.deepEqual(readdirSync(dir).sort(), ['.rill', 'b']);
    assert.deepEqual(readdirSync(join(dir, 'b')), ['g']);
  } finally {
    cleanup();
  }
});

test('rename with noreplace refuses an existing destination; exchange is refused as unsupported', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const setup = [{ type: 'create', path: 'a', mode: 0o644 }, { type: 'create', path: 'b', mode: 0o644 }] as const;
    await rejectsWith(replay(dir, [...setup, { type: 'rename', path: 'a', to: 'b', noreplace: true }]), 'io', /noreplace/);
    await rejectsWith(replay(dir, [{ type: 'rename', path: 'a', to: 'b', exchange: true }]), 'stream', /exchange/);
    assert.ok(existsSync(join(dir, 'a')) && existsSync(join(dir, 'b')));
  } finally {
    cleanup();
  }
});

test('chmod, utimes, setxattr, removexattr on files, symlinks and the root itself', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await replay(dir, [
      { type: 'create', path: 'f', mode: 0o600 },
      { type: 'commit' },
      { type: 'chmod', path: 'f', mode: 0o4751 },
      { type: 'setxattr', path: 'f', name: 'user.a', value: Buffer.from('1') },
      { type: 'setxattr', path: 'f', name: 'user.b', value: Buffer.from('2') },
      { type: 'removexattr', path: 'f', name: 'user.b' },
      { type: 'utimes', path: 'f', atime: 1_000_000_001n, mtime: 2_000_000_002n },
      { type: 'symlink', path: 'l', target: 'f' },
      { type: 'chmod', path: 'l', mode: 0o777 }, // a no-op: never through the link
      { type: 'utimes', path: 'l', atime: 5n, mtime: 7n },
      { type: 'chmod', path: '', mode: 0o750 },
      { type: 'setxattr', path: '', name: 'user.root', value: Buffer.from('r') },
    ]);
    const f = lstatSync(join(dir, 'f'), { bigint: true });
    assert.equal(Number(f.mode) & 0o7777, 0o4751);
    assert.equal(f.mtimeNs, 2_000_000_002n);
    assert.equal(f.atimeNs, 1_000_000_001n);
    assert.deepEqual(sys.getXattr(join(dir, 'f'), 'user.a'), Buffer.from('1'));
    assert.equal(sys.getXattr(join(dir, 'f'), 'user.b'), null);
    assert.equal(lstatSync(join(dir, 'l'), { bigint: true }).mtimeNs, 7n);
    assert.equal(lstatSync(dir).mode & 0o7777, 0o750);
    assert.deepEqual(sys.getXattr(dir, 'user.root'), Buffer.from('r'));
  } finally {
    cleanup();
  }
});

test('assert checks size and hash; a mismatch stops the replay naming the path', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const data = Buffer.from('content');
    const sha = createHash('sha256').update(data).digest();
    const make = [{ type: 'create', path: 'f', mode: 0o644 }, { type: 'write', path: 'f', offset: 0, data }] as const;
    const { log } = await replay(dir, [
      ...make,
      { type: 'assert', path: 'f', size: 7, alg: 'sha256', hash: sha },
      { type: 'commit' },
      { type: 'assert', path: 'f', size: 7, alg: 'sha256', hash: sha },
      { type: 'assert', path: 'f', size: 7, alg: 'no-such-alg', hash: sha },
    ]);
    assert.equal(log.filter((l) => l.includes('unsupported alg "no-such-alg"')).length, 1);
    await rejectsWith(replay(dir, [{ type: 'assert', path: 'f', size: 8, alg: 'sha256', hash: sha }]), 'io', /"f" has 7 bytes .* says 8/);
    await rejectsWith(replay(dir, [{ type: 'assert', path: 'f', size: 7, alg: 'sha256', hash: Buffer.alloc(32) }]), 'io', /assertion failed/);
  } finally {
    cleanup();
  }
});

test('note and bookmark print only with --verbose; commit and bookmark record progress', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const events = [
      { type: 'note', code: 'changed', message: 'file changed while scanned', path: 'f' },
      { type: 'bookmark', name: 'nightly', wall: 1n, consistent: true },
    ] as const;
    const quiet = await replay(dir, [...events]);
    assert.deepEqual(quiet.log, []);
    const state1 = JSON.parse(readFileSync(join(dir, '.rill/state.json'), 'utf8'));
    assert.equal(state1.lastSeq, 2);
    const loud = await replay(join(dir, 'other'), [...events], { verbose: true });
    assert.ok(loud.log.some((l) => l.includes('file changed while scanned') && l.includes('"f"')));
    assert.ok(loud.log.some((l) => l.includes('bookmark "nightly" at seq 2 (consistent)')));
  } finally {
    cleanup();
  }
});
