// Something of the wrong type in the way: the stream wins for paths it names (a non-directory is
// replaced) but never removes a directory implicitly; missing or non-directory parents are errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readFileSync, readlinkSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeTree, tempDir } from '../helpers/tree.js';
import type { EventInput } from '../../src/stream/events.js';
import { replay, rejectsWith, temps } from './helpers.js';

test('a directory in the way of a non-directory is refused with a hint, and left intact', async (t) => {
  const cases: [string, EventInput[]][] = [
    ['create', [{ type: 'create', path: 'a/b', mode: 0o644 }]],
    ['symlink', [{ type: 'symlink', path: 'a/b', target: 'x' }]],
    ['mknod', [{ type: 'mknod', path: 'a/b', mode: 0o010644, rdev: 0 }]],
    ['link', [{ type: 'create', path: 'f', mode: 0o644 }, { type: 'link', path: 'a/b', target: 'f' }]],
    ['rename of a file', [{ type: 'create', path: 'f', mode: 0o644 }, { type: 'rename', path: 'f', to: 'a/b' }]],
  ];
  for (const [name, events] of cases) {
    await t.test(name, async () => {
      const { dir, cleanup } = tempDir();
      try {
        makeTree(dir, [{ type: 'dir', path: 'a' }, { type: 'dir', path: 'a/b' }, { type: 'file', path: 'a/b/keep', content: 'k' }]);
        const err = await rejectsWith(replay(dir, events), 'unsafe', /"a\/b" exists as a directory; the stream creates .* there; replay never removes a directory/);
        assert.equal(err.path, 'a/b');
        assert.equal(readFileSync(join(dir, 'a/b/keep'), 'utf8'), 'k');
        assert.deepEqual(temps(dir), []);
      } finally {
        cleanup();
      }
    });
  }
});

test('a non-directory in the way is replaced: by a directory, a file, a symlink, a node, a hard link', async () => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(dir, [
      { type: 'file', path: 'was-file', content: 'x' },
      { type: 'symlink', path: 'was-link', target: '/' },
      { type: 'file', path: 'f1', content: 'old' },
      { type: 'file', path: 'f2', content: 'old' },
      { type: 'fifo', path: 'f3' },
      { type: 'file', path: 'f4', content: 'old' },
      { type: 'file', path: 'src', content: 'source' },
    ]);
    await replay(dir, [
      { type: 'mkdir', path: 'was-file', mode: 0o750 },
      { type: 'mkdir', path: 'was-link', mode: 0o750 },
      { type: 'create', path: 'f1', mode: 0o600 },
      { type: 'symlink', path: 'f2', target: 'elsewhere' },
      { type: 'mknod', path: 'f3', mode: 0o010600, rdev: 0 },
      { type: 'link', path: 'f4', target: 'src' },
    ]);
    assert.ok(lstatSync(join(dir, 'was-file')).isDirectory());
    assert.ok(lstatSync(join(dir, 'was-link')).isDirectory());
    assert.equal(lstatSync(join(dir, 'was-link')).mode & 0o7777, 0o750);
    assert.equal(readFileSync(join(dir, 'f1'), 'utf8'), '');
    assert.equal(readlinkSync(join(dir, 'f2')), 'elsewhere');
    assert.equal(lstatSync(join(dir, 'f3')).mode & 0o7777, 0o600);
    assert.equal(lstatSync(join(dir, 'f4')).ino, lstatSync(join(dir, 'src')).ino);
    assert.deepEqual(temps(dir), []);
  } finally {
    cleanup();
  }
});

test('linking a name that already is that file changes nothing and leaves no temp name', async () => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(dir, [{ type: 'file', path: 'a', content: 'x' }, { type: 'link', path: 'b', target: 'a' }]);
    await replay(dir, [{ type: 'link', path: 'b', target: 'a' }]);
    assert.equal(lstatSync(join(dir, 'a')).nlink, 2);
    assert.deepEqual(temps(dir), []);
    assert.deepEqual(readdirSync(dir).sort(), ['.rill', 'a', 'b']);
  } finally {
    cleanup();
  }
});

test('a missing parent or a file where a parent directory should be is an io error naming both', async () => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(dir, [{ type: 'file', path: 'plain', content: 'x' }]);
    await rejectsWith(replay(dir, [{ type: 'create', path: 'nope/f', mode: 0o644 }]), 'io', /"nope\/f": its parent directory "nope" does not exist/);
    await rejectsWith(replay(dir, [{ type: 'create', path: 'plain/f', mode: 0o644 }]), 'io', /"plain" is not a directory/);
    await rejectsWith(replay(dir, [{ type: 'link', path: 'l', target: 'missing' }]), 'io', /target does not exist/);
    await rejectsWith(replay(dir, [{ type: 'write', path: 'missing', offset: 0, data: Buffer.from('x') }]), 'io', /no such file/);
  } finally {
    cleanup();
  }
});
