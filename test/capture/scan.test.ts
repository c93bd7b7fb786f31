// The exact event sequence of a scan (a golden list, as data) and the ordering rules behind it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { scanEvents, scanTree } from '../../src/capture/scan.js';
import type { EventInput } from '../../src/stream/events.js';
import { makeTree, tempDir, isRoot, requireCapability } from '../helpers/tree.js';
import { at, createdPaths, futureAtime, scan } from './helpers.js';

const b = (s: string): Buffer => Buffer.from(s);

test('golden: a small tree of every common kind gives exactly this sequence', (t) => {
  if (!requireCapability(t, isRoot, 'root (to own files as other users)')) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(
    root,
    [
      { type: 'dir', path: 'd', mode: 0o750 },
      { type: 'file', path: 'd/f', content: 'hello\n', mode: 0o640 },
      { type: 'link', path: 'd/hard', target: 'd/f' },
      { type: 'file', path: 'empty', content: '', mode: 0o600 },
      { type: 'symlink', path: 'ln', target: 'd/f' },
      { type: 'fifo', path: 'p', mode: 0o600 },
      { type: 'file', path: 'suid', content: 'x', mode: 0o4755 },
    ],
    [
      { path: 'd/f', uid: 1000, gid: 100, mtime: at(1), atime: at(2), xattrs: { 'user.b': '2', 'user.a': '1' } },
      { path: 'empty', mtime: at(3) },
      { path: 'ln', uid: 7, gid: 8, mtime: at(4) },
      { path: 'p', mtime: at(5) },
      { path: 'suid', mtime: at(6) },
      { path: 'd', mtime: at(7), atime: at(8), xattrs: { 'user.dir': 'x' } },
    ],
  );
  chmodSync(root, 0o755);
  makeTree(root, [], [{ path: '', mtime: at(9) }]);

  const { events, problems } = scan(root);
  assert.deepEqual(problems, []);
  assert.equal(events[0]!.type, 'note');
  assert.equal((events[0] as { code: string }).code, 'live-scan');
  const expected: EventInput[] = [
    { type: 'mkdir', path: 'd', mode: 0o750 },
    { type: 'create', path: 'd/f', mode: 0o640 },
    { type: 'write', path: 'd/f', offset: 0, data: b('hello\n') },
    { type: 'chown', path: 'd/f', uid: 1000, gid: 100 },
    { type: 'setxattr', path: 'd/f', name: 'user.a', value: b('1') },
    { type: 'setxattr', path: 'd/f', name: 'user.b', value: b('2') },
    { type: 'utimes', path: 'd/f', atime: at(2), mtime: at(1) },
    { type: 'link', path: 'd/hard', target: 'd/f' },
    { type: 'chown', path: 'd', uid: 0, gid: 0 },
    { type: 'setxattr', path: 'd', name: 'user.dir', value: b('x') },
    { type: 'chmod', path: 'd', mode: 0o750 },
    { type: 'utimes', path: 'd', atime: at(8), mtime: at(7) },
    { type: 'create', path: 'empty', mode: 0o600 },
    { type: 'chown', path: 'empty', uid: 0, gid: 0 },
    { type: 'utimes', path: 'empty', atime: at(3), mtime: at(3) },
    { type: 'symlink', path: 'ln', target: 'd/f' },
    { type: 'chown', path: 'ln', uid: 7, gid: 8 },
    { type: 'utimes', path: 'ln', atime: at(4), mtime: at(4) },
    { type: 'mknod', path: 'p', mode: 0o010600, rdev: 0 },
    { type: 'chown', path: 'p', uid: 0, gid: 0 },
    { type: 'utimes', path: 'p', atime: at(5), mtime: at(5) },
    { type: 'create', path: 'suid', mode: 0o4755 },
    { type: 'write', path: 'suid', offset: 0, data: b('x') },
    { type: 'chown', path: 'suid', uid: 0, gid: 0 },
    { type: 'chmod', path: 'suid', mode: 0o4755 }, // chown clears set-id bits: restore them
    { type: 'utimes', path: 'suid', atime: at(6), mtime: at(6) },
    { type: 'chown', path: '', uid: 0, gid: 0 },
    { type: 'chmod', path: '', mode: 0o755 },
    { type: 'utimes', path: '', atime: at(9), mtime: at(9) },
    { type: 'commit' },
  ];
  assert.deepEqual(events.slice(1), expected);
});

test('order: depth first, names in byte order (not UTF-16 order), directory metadata after its contents', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  // UTF-8 byte order puts U+FF01 (ef bc 81) before U+1F600 (f0 9f 98 80); UTF-16 order is the reverse.
  makeTree(root, [
    { type: 'dir', path: 'b' },
    { type: 'dir', path: 'b/z' },
    { type: 'file', path: 'b/z/deep', content: '1' },
    { type: 'file', path: 'b/a', content: '2' },
    { type: 'file', path: 'a', content: '3' },
    { type: 'file', path: 'x\u{1F600}', content: '' },
    { type: 'file', path: 'x\uFF01', content: '' },
    { type: 'file', path: 'B', content: '' },
    { type: 'file', path: 'caf\udce9', content: '' },
    { type: 'file', path: 'caf\u00e9', content: '' },
  ]);
  const { events } = scan(root);
  assert.deepEqual(createdPaths(events), ['B', 'a', 'b', 'b/a', 'b/z', 'b/z/deep', 'caf\u00e9', 'caf\udce9', 'x\uFF01', 'x\u{1F600}']);
  const idx = (type: string, path: string): number => events.findIndex((e) => e.type === type && 'path' in e && e.path === path);
  assert.ok(idx('utimes', 'b/z') > idx('utimes', 'b/z/deep'), 'b/z metadata after its file');
  assert.ok(idx('utimes', 'b') > idx('utimes', 'b/z'), 'b metadata after its subdirectory');
  assert.ok(idx('utimes', 'b') < idx('create', 'caf\u00e9'), 'b closed before its next sibling');
  const last = events.slice(-4).map((e) => `${e.type}:${'path' in e ? e.path : ''}`);
  assert.deepEqual(last, ['chown:', 'chmod:', 'utimes:', 'commit:'], 'the root last, then commit');
  assert.equal(events.filter((e) => e.type === 'mkdir' && e.path === '').length, 0, 'no mkdir for the root');
});

test('a top-level .rill directory is skipped; a deeper one is not', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [
    { type: 'dir', path: '.rill' },
    { type: 'file', path: '.rill/state', content: 's' },
    { type: 'dir', path: 'sub' },
    { type: 'dir', path: 'sub/.rill' },
    { type: 'file', path: '.rillx', content: '' },
  ]);
  assert.deepEqual(createdPaths(scan(root).events), ['.rillx', 'sub', 'sub/.rill']);
});

test('scanTree (async) yields the same events as scanEvents', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  const atime = futureAtime();
  makeTree(root, [{ type: 'dir', path: 'a' }, { type: 'file', path: 'a/f', content: 'x' }], [{ path: 'a', atime, mtime: at(1) }, { path: '', atime, mtime: at(1) }]);
  const viaAsync: EventInput[] = [];
  for await (const e of scanTree(root)) viaAsync.push(e);
  assert.deepEqual(viaAsync, [...scanEvents(root)]);
});

test('the scan is lazy: nothing is read before the consumer asks', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/t`, [{ type: 'file', path: 'f', content: 'x' }]);
  let opened = 0;
  const gen = scanEvents(`${dir}/t`, { hooks: { beforeOpen: () => opened++ } });
  assert.equal(opened, 0);
  gen.next(); // the live-scan note
  assert.equal(opened, 0);
  [...gen];
  assert.equal(opened, 1);
});
