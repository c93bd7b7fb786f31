// Invariant 1: whatever the stream says, replay creates, changes and reads nothing outside its root,
// including through symlinks the stream itself created. Each hostile stream is refused as unsafe.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, lstatSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { makeTree, tempDir } from '../helpers/tree.js';
import type { EventInput } from '../../src/stream/events.js';
import { replay, rejectsWith, snapshot, temps } from './helpers.js';

const W = (path: string): EventInput => ({ type: 'write', path, offset: 0, data: Buffer.from('pwned') });

/** Streams that try to reach `outside` (an absolute path given to them), each with what makes it hostile. */
function hostile(outside: string): [string, EventInput[]][] {
  const toOut: EventInput = { type: 'symlink', path: 'a', target: outside };
  const toParent: EventInput = { type: 'symlink', path: 'a', target: '..' };
  return [
    ['absolute path', [{ type: 'create', path: `${outside}/pwned`, mode: 0o644 }]],
    ['.. component', [{ type: 'create', path: '../outside/pwned', mode: 0o644 }]],
    ['.. inside a path', [{ type: 'mkdir', path: 'x', mode: 0o755 }, { type: 'create', path: 'x/../../outside/pwned', mode: 0o644 }]],
    ['create through a symlink to an absolute dir', [toOut, { type: 'create', path: 'a/pwned', mode: 0o644 }]],
    ['mkdir through a symlink to ..', [toParent, { type: 'mkdir', path: 'a/outside/pwned', mode: 0o755 }]],
    ['write through a symlinked dir', [toOut, W('a/victim')]],
    ['truncate through a symlinked dir', [toOut, { type: 'truncate', path: 'a/victim', size: 0 }]],
    ['chmod through a symlinked dir', [toOut, { type: 'chmod', path: 'a/victim', mode: 0o777 }]],
    ['chown through a symlinked dir', [toOut, { type: 'chown', path: 'a/victim', uid: 1234, gid: 1234 }]],
    ['utimes through a symlinked dir', [toOut, { type: 'utimes', path: 'a/victim', atime: 0n, mtime: 0n }]],
    ['setxattr through a symlinked dir', [toOut, { type: 'setxattr', path: 'a/victim', name: 'user.x', value: Buffer.from('1') }]],
    ['removexattr through a symlinked dir', [toOut, { type: 'removexattr', path: 'a/victim', name: 'user.keep' }]],
    ['unlink through a symlinked dir', [toOut, { type: 'unlink', path: 'a/victim' }]],
    ['rmdir through a symlinked dir', [toOut, { type: 'rmdir', path: 'a/empty' }]],
    ['rename out of a symlinked dir', [toOut, { type: 'rename', path: 'a/victim', to: 'stolen' }]],
    ['rename into a symlinked dir', [toOut, { type: 'create', path: 'f', mode: 0o644 }, { type: 'rename', path: 'f', to: 'a/pwned' }]],
    ['hard link to a file outside', [toOut, { type: 'link', path: 'stolen', target: 'a/victim' }]],
    ['symlink made inside a symlinked dir', [toOut, { type: 'symlink', path: 'a/pwned', target: 'x' }]],
    ['mknod inside a symlinked dir', [toOut, { type: 'mknod', path: 'a/pwned', mode: 0o010644, rdev: 0 }]],
    ['assert reads through a symlinked dir', [toOut, { type: 'assert', path: 'a/victim', size: 6, alg: 'sha256', hash: Buffer.alloc(32) }]],
    ['write to a final symlink pointing outside', [{ type: 'symlink', path: 'v', target: `${outside}/victim` }, W('v')]],
    ['truncate a final symlink pointing outside', [{ type: 'symlink', path: 'v', target: `${outside}/victim` }, { type: 'truncate', path: 'v', size: 0 }]],
    ['read a final symlink pointing outside', [{ type: 'symlink', path: 'v', target: `${outside}/victim` }, { type: 'assert', path: 'v', size: 6, alg: 'sha256', hash: Buffer.alloc(32) }]],
    ['write to a device node the stream made', [{ type: 'mknod', path: 'null', mode: 0o020666, rdev: 0x103 }, W('null')]],
    ['create in .rill', [{ type: 'create', path: '.rill/state.json', mode: 0o644 }]],
    ['mkdir .rill', [{ type: 'mkdir', path: '.rill', mode: 0o755 }]],
    ['rename into .rill', [{ type: 'create', path: 'f', mode: 0o644 }, { type: 'rename', path: 'f', to: '.rill/tmp/x' }]],
    ['hard link to rill state', [{ type: 'link', path: 'st', target: '.rill/state.json' }]],
  ];
}

test('hostile streams are refused as unsafe and nothing outside the root changes', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const outside = join(dir, 'outside');
    makeTree(outside, [{ type: 'file', path: 'victim', content: 'secret', mode: 0o600 }, { type: 'dir', path: 'empty', mode: 0o755 }], [
      { path: 'victim', xattrs: { 'user.keep': 'k' }, mtime: 1_600_000_000_000_000_000n },
      { path: '', mtime: 1_600_000_000_000_000_000n },
    ]);
    const before = snapshot(outside);
    const cases = hostile(outside);
    for (const [i, [name, events]] of cases.entries()) {
      await t.test(name, async () => {
        const root = join(dir, `root${i}`);
        await rejectsWith(replay(root, events), 'unsafe');
        assert.deepEqual(snapshot(outside), before, `${name}: the outside tree changed`);
        assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('root')), ['outside'], `${name}: something appeared beside the root`);
        assert.deepEqual(temps(root), []);
      });
    }
  } finally {
    cleanup();
  }
});

test('metadata on a final symlink acts on the link itself, never on what it points to', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const outside = join(dir, 'outside');
    makeTree(outside, [{ type: 'file', path: 'victim', content: 'secret', mode: 0o600 }]);
    const before = snapshot(outside);
    const root = join(dir, 'root');
    await replay(root, [
      { type: 'symlink', path: 'v', target: `${outside}/victim` },
      { type: 'symlink', path: 'd', target: outside },
      { type: 'chmod', path: 'v', mode: 0o777 },
      { type: 'chmod', path: 'd', mode: 0o777 },
      { type: 'chown', path: 'v', uid: 4321, gid: 4321 },
      { type: 'utimes', path: 'v', atime: 3n, mtime: 4n },
      { type: 'create', path: 'd', mode: 0o644 }, // replaces the symlink, not the directory it points to
    ]);
    assert.deepEqual(snapshot(outside), before);
    assert.equal(lstatSync(join(root, 'v')).uid, 4321);
    assert.equal(lstatSync(join(root, 'v'), { bigint: true }).mtimeNs, 4n);
    assert.ok(lstatSync(join(root, 'd')).isFile());
    assert.ok(existsSync(join(outside, 'victim')));
  } finally {
    cleanup();
  }
});

test('a symlink planted in the replica by someone else is not followed either', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const outside = join(dir, 'outside');
    makeTree(outside, [{ type: 'file', path: 'victim', content: 'secret' }]);
    const root = join(dir, 'root');
    makeTree(root, [{ type: 'symlink', path: 'data', target: outside }]);
    const before = snapshot(outside);
    const err = await rejectsWith(replay(root, [W('data/victim')]), 'unsafe', /"data" is a symbolic link/);
    assert.equal(err.path, 'data/victim');
    assert.deepEqual(snapshot(outside), before);
  } finally {
    cleanup();
  }
});
