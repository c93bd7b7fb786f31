// Every kind of entry a scan meets: hard links, devices, symlinks, odd names, xattrs, ACLs,
// ownership, other file systems, and filters applied during the walk.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { sys } from '../../src/sys/native.js';
import { makeTree, tempDir, isRoot, requireCapability, abs } from '../helpers/tree.js';
import { about, createdPaths, kinds, scan } from './helpers.js';

test('hard links: the first name in scan order is captured in full, later ones become link events', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [
    { type: 'dir', path: 'a' },
    { type: 'dir', path: 'z' },
    { type: 'file', path: 'z/orig', content: 'data' },
    { type: 'link', path: 'a/second', target: 'z/orig' },
    { type: 'link', path: 'z/third', target: 'z/orig' },
    { type: 'file', path: 'single', content: 's' },
  ]);
  const { events } = scan(root);
  assert.deepEqual(kinds(about(events, 'a/second')).slice(0, 2), ['create', 'write'], 'a/second comes first in byte order');
  assert.deepEqual(about(events, 'z/orig'), [{ type: 'link', path: 'z/orig', target: 'a/second' }]);
  assert.deepEqual(about(events, 'z/third'), [{ type: 'link', path: 'z/third', target: 'a/second' }]);
  assert.ok(!events.some((e) => e.type === 'link' && e.path === 'single'));
});

test('hard links: an excluded first name does not become a link target', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [
    { type: 'file', path: 'a.tmp', content: 'data' },
    { type: 'link', path: 'b', target: 'a.tmp' },
    { type: 'link', path: 'c', target: 'a.tmp' },
  ]);
  const { events } = scan(root, { filter: [{ action: 'exclude', pattern: '*.tmp' }] });
  assert.deepEqual(about(events, 'a.tmp'), []);
  assert.equal(about(events, 'b')[0]!.type, 'create');
  assert.deepEqual(about(events, 'c'), [{ type: 'link', path: 'c', target: 'b' }]);
});

test('symlinks: targets verbatim (relative, absolute, dangling, non-UTF-8), never followed', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [
    { type: 'dir', path: 'd' },
    { type: 'file', path: 'd/f', content: 'x' },
    { type: 'symlink', path: 'abs', target: '/etc/passwd' },
    { type: 'symlink', path: 'dangling', target: 'no/such/file' },
    { type: 'symlink', path: 'dirlink', target: 'd' },
    { type: 'symlink', path: 'raw', target: 'caf\udce9' },
  ]);
  const { events } = scan(root);
  const target = (p: string): unknown => about(events, p).find((e) => e.type === 'symlink');
  assert.deepEqual(target('abs'), { type: 'symlink', path: 'abs', target: '/etc/passwd' });
  assert.deepEqual(target('dangling'), { type: 'symlink', path: 'dangling', target: 'no/such/file' });
  assert.deepEqual(target('raw'), { type: 'symlink', path: 'raw', target: 'caf\udce9' });
  assert.ok(!createdPaths(events).some((p) => p.startsWith('dirlink/')), 'a symlink to a directory is not descended');
  assert.ok(!about(events, 'abs').some((e) => e.type === 'chmod'), 'no chmod for symlinks');
});

test('fifos and character devices: mknod with type bits and rdev', (t) => {
  if (!requireCapability(t, isRoot, 'root (to make device nodes)')) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  const rdev = (1 << 8) | 3; // makedev(1, 3): /dev/null
  makeTree(root, [
    { type: 'fifo', path: 'fifo', mode: 0o640 },
    { type: 'chardev', path: 'null', rdev, mode: 0o644 },
  ]);
  const { events } = scan(root);
  assert.deepEqual(about(events, 'fifo')[0], { type: 'mknod', path: 'fifo', mode: 0o010640, rdev: 0 });
  assert.deepEqual(about(events, 'null')[0], { type: 'mknod', path: 'null', mode: 0o020644, rdev });
});

test('names: non-UTF-8 bytes, newlines and spaces round-trip as Path strings', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [
    { type: 'dir', path: 'dir\udcff' },
    { type: 'file', path: 'dir\udcff/caf\udce9', content: 'raw' },
    { type: 'file', path: 'new\nline', content: 'n' },
    { type: 'file', path: ' spaced name ', content: '' },
  ]);
  assert.deepEqual(createdPaths(scan(root).events), [' spaced name ', 'dir\udcff', 'dir\udcff/caf\udce9', 'new\nline']);
});

test('xattrs: user.* and trusted.* (files, directories, symlinks), names in byte order, raw-byte names', (t) => {
  if (!requireCapability(t, isRoot, 'root (for trusted.* xattrs)')) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(
    root,
    [{ type: 'dir', path: 'd' }, { type: 'file', path: 'f', content: '' }, { type: 'symlink', path: 'l', target: 'f' }],
    [
      { path: 'f', xattrs: { 'user.z': 'last', 'trusted.t': Buffer.from([0, 1, 2]), 'user.a': '' } },
      { path: 'd', xattrs: { 'user.on-dir': 'yes' } },
      { path: 'l', xattrs: { 'trusted.on-link': 'l' } },
    ],
  );
  sys.setXattr(abs(root, 'f'), Buffer.from('user.caf\xe9', 'latin1'), Buffer.from('raw'));
  const { events } = scan(root);
  const xa = (p: string): [string, string][] =>
    about(events, p).flatMap((e) => (e.type === 'setxattr' ? [[e.name, e.value.toString('hex')] as [string, string]] : []));
  assert.deepEqual(xa('f'), [
    ['trusted.t', '000102'],
    ['user.a', ''],
    ['user.caf\udce9', Buffer.from('raw').toString('hex')],
    ['user.z', Buffer.from('last').toString('hex')],
  ]);
  assert.deepEqual(xa('d'), [['user.on-dir', Buffer.from('yes').toString('hex')]]);
  assert.deepEqual(xa('l'), [['trusted.on-link', Buffer.from('l').toString('hex')]]);
  assert.deepEqual(kinds(about(events, 'f')), ['create', 'chown', 'setxattr', 'setxattr', 'setxattr', 'setxattr', 'utimes'], 'xattrs after chown (which drops file capabilities)');
});

test('POSIX ACLs travel as system.posix_acl_* xattrs', (t) => {
  const hasSetfacl = spawnSync('setfacl', ['--version']).status === 0;
  if (!requireCapability(t, hasSetfacl, "setfacl (Debian package 'acl')")) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [{ type: 'dir', path: 'd' }, { type: 'file', path: 'd/f', content: '' }]);
  execFileSync('setfacl', ['-m', 'u:1234:r', `${root}/d/f`]);
  execFileSync('setfacl', ['-d', '-m', 'g:99:rx', `${root}/d`]);
  const { events } = scan(root);
  const names = (p: string): string[] => about(events, p).flatMap((e) => (e.type === 'setxattr' ? [e.name] : []));
  assert.ok(names('d/f').includes('system.posix_acl_access'), `d/f xattrs: ${names('d/f').join(', ')}`);
  assert.ok(names('d').includes('system.posix_acl_default'), `d xattrs: ${names('d').join(', ')}`);
});

test('ownership: uid and gid of every kind of entry', (t) => {
  if (!requireCapability(t, isRoot, 'root (to own files as other users)')) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(
    root,
    [{ type: 'dir', path: 'd' }, { type: 'file', path: 'f', content: '' }, { type: 'symlink', path: 'l', target: 'x' }, { type: 'fifo', path: 'p' }],
    [{ path: 'd', uid: 11, gid: 12 }, { path: 'f', uid: 13, gid: 14 }, { path: 'l', uid: 15, gid: 16 }, { path: 'p', uid: 17, gid: 18 }, { path: '', uid: 19, gid: 20 }],
  );
  const { events } = scan(root);
  const owner = (p: string): unknown => about(events, p).find((e) => e.type === 'chown');
  assert.deepEqual(owner('d'), { type: 'chown', path: 'd', uid: 11, gid: 12 });
  assert.deepEqual(owner('f'), { type: 'chown', path: 'f', uid: 13, gid: 14 });
  assert.deepEqual(owner('l'), { type: 'chown', path: 'l', uid: 15, gid: 16 });
  assert.deepEqual(owner('p'), { type: 'chown', path: 'p', uid: 17, gid: 18 });
  assert.deepEqual(owner(''), { type: 'chown', path: '', uid: 19, gid: 20 });
});

test('--one-file-system: a mount point stays, empty; without it the walk crosses', (t) => {
  const { dir, cleanup } = tempDir();
  const root = `${dir}/t`;
  makeTree(root, [{ type: 'dir', path: 'mnt' }, { type: 'file', path: 'here', content: '' }]);
  const mounted = isRoot && spawnSync('mount', ['-t', 'tmpfs', 'rill-test', `${root}/mnt`]).status === 0;
  t.after(() => {
    if (mounted) spawnSync('umount', [`${root}/mnt`]);
    cleanup();
  });
  if (!requireCapability(t, mounted, 'mounting a tmpfs (root in a namespace that allows mounts)')) return;
  makeTree(`${root}/mnt`, [{ type: 'file', path: 'inside', content: 'x' }]);
  assert.deepEqual(createdPaths(scan(root).events), ['here', 'mnt', 'mnt/inside']);
  const { events } = scan(root, { oneFileSystem: true });
  assert.deepEqual(createdPaths(events), ['here', 'mnt']);
  assert.ok(about(events, 'mnt').some((e) => e.type === 'utimes'), 'the mount point keeps its metadata');
});

test('filters during the walk: an excluded directory is not descended, an include cannot reach below it', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [
    { type: 'dir', path: 'cache' },
    { type: 'file', path: 'cache/keep.c', content: '' },
    { type: 'dir', path: 'src' },
    { type: 'dir', path: 'src/cache' },
    { type: 'file', path: 'src/cache/x', content: '' },
    { type: 'file', path: 'src/a.c', content: '' },
    { type: 'file', path: 'src/a.o', content: '' },
    { type: 'file', path: 'top.o', content: '' },
  ]);
  let opened = 0;
  const { events } = scan(root, {
    filter: [
      { action: 'include', pattern: '*.c' },
      { action: 'exclude', pattern: '/cache/' },
      { action: 'exclude', pattern: '*.o' },
    ],
    hooks: { beforeOpen: () => opened++ },
  });
  assert.deepEqual(createdPaths(events), ['src', 'src/a.c', 'src/cache', 'src/cache/x']);
  assert.equal(opened, 2, 'excluded files are not even opened');
});

test('a read-only directory: its mode in mkdir and again in chmod after its contents', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [{ type: 'dir', path: 'ro' }, { type: 'file', path: 'ro/f', content: 'x' }]);
  mkdirSync(`${root}/ro/sub`);
  execFileSync('chmod', ['0555', `${root}/ro`]);
  const { events } = scan(root);
  assert.deepEqual(about(events, 'ro')[0], { type: 'mkdir', path: 'ro', mode: 0o555 });
  assert.ok(about(events, 'ro').some((e) => e.type === 'chmod' && e.mode === 0o555));
  assert.deepEqual(createdPaths(events), ['ro', 'ro/f', 'ro/sub']);
});
