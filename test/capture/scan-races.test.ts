// A live tree: entries that change, vanish, change type or cannot be read while the scan runs. The
// scan never crashes, notes each one in the stream, tells the caller, and keeps the stream coherent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, mkdirSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { scanEvents } from '../../src/capture/scan.js';
import { makeTree, tempDir, isRoot, requireCapability } from '../helpers/tree.js';
import { about, createdPaths, kinds, scan } from './helpers.js';

const errno = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: injected`), { code, syscall: 'read' });

function threeFiles(t: { after: (fn: () => void) => void }): string {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/t`, [
    { type: 'file', path: 'a', content: 'A' },
    { type: 'file', path: 'b', content: 'B' },
    { type: 'file', path: 'c', content: 'C' },
  ]);
  return `${dir}/t`;
}

test('a file that vanishes between listing and open: a note, nothing else for it, the scan goes on', (t) => {
  const root = threeFiles(t);
  const { events, problems } = scan(root, { hooks: { beforeOpen: (p) => p === 'b' && unlinkSync(`${root}/b`) } });
  assert.deepEqual(about(events, 'b').map((e) => e.type === 'note' && e.code), ['vanished']);
  assert.deepEqual(createdPaths(events), ['a', 'c']);
  assert.deepEqual(problems.map((p) => [p.code, p.path]), [['vanished', 'b'], ['changed', '']], 'and the root directory changed');
  assert.equal(events.at(-1)!.type, 'commit');
});

test('a directory that vanishes after its parent was listed: a note, none of its contents', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [{ type: 'file', path: 'a', content: '' }, { type: 'dir', path: 'z' }, { type: 'file', path: 'z/f', content: '' }]);
  const { events, problems } = scan(root, { hooks: { beforeOpen: (p) => p === 'a' && rmSync(`${root}/z`, { recursive: true }) } });
  assert.deepEqual(createdPaths(events), ['a']);
  assert.deepEqual(problems.map((p) => [p.code, p.path]), [['vanished', 'z'], ['changed', '']]);
});

test('a file that grows while read: captured, with a changed note after its data', (t) => {
  const root = threeFiles(t);
  const { events, problems } = scan(root, { hooks: { afterData: (p) => p === 'b' && appendFileSync(`${root}/b`, 'more') } });
  assert.deepEqual(kinds(about(events, 'b')), ['create', 'write', 'note', 'chown', 'utimes']);
  const note = about(events, 'b')[2]!;
  assert.ok(note.type === 'note' && note.code === 'changed' && /size 1 → 5/.test(note.message), JSON.stringify(note));
  assert.deepEqual(problems.map((p) => p.code), ['changed']);
});

test('a file that vanishes after its create was emitted is unlinked again in the stream', (t) => {
  const root = threeFiles(t);
  const { events, problems } = scan(root, { hooks: { afterData: (p) => p === 'b' && unlinkSync(`${root}/b`) } });
  const b = about(events, 'b');
  assert.deepEqual(kinds(b).filter((k) => k !== 'note'), ['create', 'write', 'unlink']);
  assert.ok(problems.some((p) => p.code === 'vanished' && p.path === 'b'));
  assert.deepEqual(createdPaths(events), ['a', 'b', 'c']);
});

test('a read error after create: an unreadable note, then unlink; before open: the note alone', (t) => {
  const root = threeFiles(t);
  const { events, problems } = scan(root, {
    hooks: {
      afterData: (p) => {
        if (p === 'b') throw errno('EIO');
      },
      beforeOpen: (p) => {
        if (p === 'c') throw errno('EACCES');
      },
    },
  });
  assert.deepEqual(kinds(about(events, 'b')), ['create', 'write', 'note', 'unlink']);
  assert.deepEqual(kinds(about(events, 'c')), ['note']);
  assert.deepEqual(problems.map((p) => [p.code, p.path, p.cause?.code]), [['unreadable', 'b', 'EIO'], ['unreadable', 'c', 'EACCES']]);
  assert.match(problems[0]!.message, /EIO/);
});

test('an error that is not about an entry (no errno) stops the scan instead of becoming a note', (t) => {
  const root = threeFiles(t);
  const gen = scanEvents(root, { hooks: { beforeOpen: () => { throw new TypeError('a bug'); } } });
  assert.throws(() => [...gen], TypeError);
});

test('a directory whose entries change during the scan gets a changed note; the newcomer is not invented', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [{ type: 'dir', path: 'd' }, { type: 'file', path: 'd/a', content: '' }]);
  const { events, problems } = scan(root, { hooks: { beforeOpen: (p) => p === 'd/a' && writeFileSync(`${root}/d/new`, 'x') } });
  assert.deepEqual(problems.map((p) => [p.code, p.path]), [['changed', 'd']]);
  assert.deepEqual(createdPaths(events), ['d', 'd/a']);
  assert.ok(about(events, 'd').some((e) => e.type === 'utimes'), 'its metadata is still emitted');
});

test('a file replaced by a directory or a symlink after listing is captured as what it is now', (t) => {
  const root = threeFiles(t);
  const { events, problems } = scan(root, {
    hooks: {
      beforeOpen: (p) => {
        if (p === 'a') {
          unlinkSync(`${root}/a`);
          mkdirSync(`${root}/a`);
          writeFileSync(`${root}/a/inner`, 'i');
        } else if (p === 'b') {
          unlinkSync(`${root}/b`);
          symlinkSync('target', `${root}/b`);
        }
      },
    },
  });
  assert.deepEqual(createdPaths(events), ['a', 'a/inner', 'b', 'c']);
  assert.equal(about(events, 'a')[0]!.type, 'mkdir');
  assert.deepEqual(about(events, 'b')[0], { type: 'symlink', path: 'b', target: 'target' });
  assert.ok(problems.every((p) => p.code === 'changed'), JSON.stringify(problems));
});

test('really unreadable (scanning without privileges): files and directories noted, the rest captured', (t) => {
  if (!requireCapability(t, isRoot, 'root (to drop privileges with seteuid)')) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [
    { type: 'dir', path: 'locked', mode: 0o000 },
    { type: 'file', path: 'open', content: 'o', mode: 0o644 },
    { type: 'file', path: 'secret', content: 's', mode: 0o000 },
  ]);
  mkdirSync(`${root}/locked/inside`);
  chmodSync(dir, 0o755); // mkdtemp made it 0700
  let result: ReturnType<typeof scan>;
  process.setegid!(65534);
  process.seteuid!(65534);
  try {
    result = scan(root);
  } finally {
    process.seteuid!(0);
    process.setegid!(0);
  }
  const { events, problems } = result;
  assert.deepEqual(problems.map((p) => [p.code, p.path, p.cause?.code]), [['unreadable', 'locked', 'EACCES'], ['unreadable', 'secret', 'EACCES']]);
  assert.deepEqual(createdPaths(events), ['locked', 'open'], 'the unlistable directory is kept, empty; the secret file is not');
  assert.match(problems[0]!.message, /empty directory/);
});
