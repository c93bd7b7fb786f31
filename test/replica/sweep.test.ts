// A full stream makes the replica exactly the stream: entries it does not name are removed (files,
// directories with their contents, symlinks, fifos, the stash), never through a symlink and never
// outside the root; a stream out of scan order is refused with what was removed kept in the trash;
// a full replay stopped anywhere and rerun converges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, makeTree, requireCapability, tempDir, type EntrySpec, type MetaSpec } from '../helpers/tree.js';
import { q, sh } from '../helpers/cli.js';
import { applyRecords } from '../../src/replica/index.js';
import { RillError } from '../../src/errors.js';
import type { EventInput } from '../../src/stream/events.js';
import { feed, rejectsWith, replay, snapshot, stream, temps } from './helpers.js';

const T = 1_650_000_000_123_456_789n;

const SOURCE: EntrySpec[] = [
  { type: 'dir', path: 'a', mode: 0o755 },
  { type: 'dir', path: 'a/b', mode: 0o750 },
  { type: 'file', path: 'a/b/f', content: 'deep' },
  { type: 'file', path: 'a/g', content: 'g' },
  { type: 'dir', path: 'empty', mode: 0o700 },
  { type: 'file', path: 'clash', content: 'a file where the replica has a directory' },
  { type: 'dir', path: 'was-file', mode: 0o755 },
  { type: 'file', path: 'was-file/in', content: 'in' },
  { type: 'symlink', path: 'sl', target: 'a/g' },
  { type: 'link', path: 'hard', target: 'a/g' },
  { type: 'fifo', path: 'pipe', mode: 0o600 },
];
const META: MetaSpec[] = ['a/b', 'a', 'empty', 'was-file', ''].map((path, i) => ({ path, mtime: T + BigInt(i) }));

/** Extras in the replica, and names it shares with the source as other types. */
function extras(root: string, outside: string): void {
  makeTree(root, [
    { type: 'file', path: 'junk', content: 'x' },
    { type: 'dir', path: 'a' },
    { type: 'dir', path: 'a/old', mode: 0o555 },
    { type: 'dir', path: 'a/old/deeper' },
    { type: 'file', path: 'a/old/deeper/file', content: 'y' },
    { type: 'file', path: 'a/extra\udcff', content: 'raw name' },
    { type: 'dir', path: 'empty' },
    { type: 'symlink', path: 'empty/to-outside', target: outside },
    { type: 'dir', path: 'clash' },
    { type: 'file', path: 'clash/inside', content: 'z' },
    { type: 'file', path: 'was-file', content: 'a file where the source has a directory' },
    { type: 'symlink', path: 'out-dir', target: outside },
    { type: 'symlink', path: 'out-file', target: join(outside, 'keep') },
    { type: 'fifo', path: 'fifo' },
  ]);
  mkdirSync(join(root, '.rill/stash'), { recursive: true });
  writeFileSync(join(root, '.rill/stash/left'), 'left by a change set');
}

test('a full stream removes every entry it does not name, and nothing outside the root', (t) => {
  if (!requireCapability(t, isRoot, 'root (owners and a fifo compared by verify)')) return;
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    const rep = join(dir, 'rep');
    const outside = join(dir, 'outside');
    makeTree(src, SOURCE, META);
    makeTree(outside, [{ type: 'file', path: 'keep', content: 'keep' }, { type: 'dir', path: 'sub' }, { type: 'file', path: 'sub/x', content: 'x' }]);
    extras(rep, outside);
    const before = snapshot(outside);
    const r = sh(`rill capture --scan ${q(src)} | rill replay --verbose ${q(rep)} && rill verify ${q(src)} ${q(rep)}`);
    assert.equal(r.code, 0, r.stderr + r.stdout.toString());
    assert.match(r.stderr, /removed \d+ entries the full stream does not name/);
    assert.deepEqual(snapshot(outside), before);
    assert.deepEqual(readdirSync(join(rep, '.rill/stash')), []);
    assert.deepEqual(readdirSync(join(rep, '.rill/trash')), []);
    assert.deepEqual(temps(rep), []);
  } finally {
    cleanup();
  }
});

/** A full stream by hand, in scan order: entries, then each directory's metadata after its contents. */
const FULL: EventInput[] = [
  { type: 'mkdir', path: 'a', mode: 0o755 },
  { type: 'mkdir', path: 'a/b', mode: 0o750 },
  { type: 'create', path: 'a/b/f', mode: 0o644 },
  { type: 'write', path: 'a/b/f', offset: 0, data: Buffer.from('deep') },
  { type: 'utimes', path: 'a/b/f', atime: T, mtime: T },
  { type: 'utimes', path: 'a/b', atime: T, mtime: T + 1n },
  { type: 'create', path: 'a/g', mode: 0o600 },
  { type: 'utimes', path: 'a/g', atime: T, mtime: T + 2n },
  { type: 'chmod', path: 'a', mode: 0o755 },
  { type: 'utimes', path: 'a', atime: T, mtime: T + 3n },
  { type: 'create', path: 'clash', mode: 0o644 },
  { type: 'utimes', path: 'clash', atime: T, mtime: T + 4n },
  { type: 'mkdir', path: 'empty', mode: 0o700 },
  { type: 'utimes', path: 'empty', atime: T, mtime: T + 5n },
  { type: 'link', path: 'hard', target: 'a/g' },
  { type: 'symlink', path: 'sl', target: 'a/g' },
  { type: 'utimes', path: 'sl', atime: T, mtime: T + 6n },
  { type: 'mkdir', path: 'was-file', mode: 0o755 },
  { type: 'utimes', path: 'was-file', atime: T, mtime: T + 7n },
  { type: 'chmod', path: '', mode: 0o755 },
  { type: 'utimes', path: '', atime: T, mtime: T + 8n },
  { type: 'commit' },
];

test('a full replay stopped after any event and rerun removes the extras and converges', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const outside = join(dir, 'outside');
    makeTree(outside, [{ type: 'file', path: 'keep', content: 'keep' }]);
    const records = stream(FULL, { source: 'full', full: true });
    const clean = join(dir, 'clean');
    await applyRecords(feed(records), clean, { log: () => {} });
    const want = snapshot(clean).filter((l) => !l.startsWith('.rill')).map((l) => l.replace(/ ino=\d+/, ''));
    const strip = (root: string) => snapshot(root).filter((l) => !l.startsWith('.rill')).map((l) => l.replace(/ ino=\d+/, ''));
    for (let stop = 1; stop <= records.length; stop++) {
      const root = join(dir, `r${stop}`);
      extras(root, outside);
      if (stop < records.length) {
        await rejectsWith(applyRecords(feed(records.slice(0, stop), undefined, new RillError('stream', 'cut')), root, { log: () => {} }), 'stream', /cut/);
      }
      await applyRecords(feed(records), root, { log: () => {} });
      assert.deepEqual(strip(root), want, `stopped before record ${stop}`);
      assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'keep');
      assert.deepEqual(readdirSync(join(root, '.rill/trash')), [], `stopped before record ${stop}`);
    }
  } finally {
    cleanup();
  }
});

test('a full stream that comes back to a directory it left is refused; what was removed waits in the trash', async () => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(dir, [{ type: 'dir', path: 'd' }, { type: 'file', path: 'd/extra', content: 'e' }, { type: 'dir', path: 'e' }]);
    const err = await rejectsWith(
      replay(dir, [
        { type: 'mkdir', path: 'd', mode: 0o755 },
        { type: 'create', path: 'd/a', mode: 0o644 },
        { type: 'mkdir', path: 'e', mode: 0o755 },
        { type: 'create', path: 'd/b', mode: 0o644 },
      ], {}, { full: true }),
      'stream',
      /full stream not in scan order at create "d\/b" \(seq 4\): its directory "d" was finished already.*\.rill\/trash/,
    );
    assert.equal(err.path, 'd/b');
    assert.deepEqual(readdirSync(join(dir, 'd')), ['a']);
    const trash = readdirSync(join(dir, '.rill/trash'));
    assert.equal(trash.length, 1);
    assert.equal(readFileSync(join(dir, '.rill/trash', trash[0]!), 'utf8'), 'e');
    await rejectsWith(replay(dir, [{ type: 'mkdir', path: 'x', mode: 0o755 }, { type: 'mkdir', path: 'y', mode: 0o755 }, { type: 'mkdir', path: 'x', mode: 0o755 }], {}, { full: true }), 'stream', /already finished "x"/);
    await rejectsWith(replay(dir, [{ type: 'create', path: 'z', mode: 0o644 }, { type: 'rename', path: 'z', to: 'w' }], {}, { full: true }), 'stream', /not changes.*rename "z"/);
    await rejectsWith(replay(dir, [{ type: 'create', path: 'n/o', mode: 0o644 }], {}, { full: true }), 'stream', /its directory "n" was finished already, or not made/);
  } finally {
    cleanup();
  }
});

test('a stream without the full flag removes nothing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(dir, [{ type: 'file', path: 'extra', content: 'e' }]);
    await replay(dir, [{ type: 'create', path: 'new', mode: 0o644 }]);
    assert.deepEqual(readdirSync(dir).sort(), ['.rill', 'extra', 'new']);
  } finally {
    cleanup();
  }
});

test('the sweep does not remove across a mount point; it refuses', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    let mounted = false;
    try {
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt], { stdio: 'ignore' });
      mounted = true;
    } catch {
      // reported below
    }
    if (!requireCapability(t, isRoot && mounted, 'root and mount -t tmpfs')) return;
    try {
      writeFileSync(join(mnt, 'precious'), 'p');
      await rejectsWith(replay(dir, [{ type: 'mkdir', path: 'other', mode: 0o755 }], {}, { full: true }), 'unsafe', /refused to remove "mnt": another file system is mounted there/);
      assert.equal(readFileSync(join(mnt, 'precious'), 'utf8'), 'p');
      assert.ok(lstatSync(mnt).isDirectory());
    } finally {
      execFileSync('umount', [mnt]);
    }
  } finally {
    cleanup();
  }
});

test('data events naming the volume are refused in a tree replay (and in a dry run)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    for (const e of [
      { type: 'write', path: '', offset: 0, data: Buffer.from('x') },
      { type: 'truncate', path: '', size: 0 },
      { type: 'punch', path: '', offset: 0, length: 1 },
    ] as EventInput[]) {
      const msg = new RegExp(`a ${e.type} event names the volume \\(path ""\\), but ROOT is a directory: this is a volume stream; replay it into a file or block device`);
      await rejectsWith(replay(join(dir, 'r'), [e]), 'stream', msg);
      await rejectsWith(replay(join(dir, 'n'), [e], { dryRun: true, print: () => {} }), 'stream', msg);
    }
    assert.equal(existsSync(join(dir, 'n')), false);
    // in a full stream too, before the root is swept
    makeTree(join(dir, 'f'), [{ type: 'file', path: 'keep', content: 'k' }]);
    await rejectsWith(replay(join(dir, 'f'), [{ type: 'create', path: 'a', mode: 0o644 }, { type: 'write', path: '', offset: 0, data: Buffer.from('x') }], {}, { full: true }), 'stream', /names the volume/);
    assert.ok(existsSync(join(dir, 'f/keep')));
  } finally {
    cleanup();
  }
});

test('a full stream without root metadata: stopped after its last commit it still sweeps on rerun; applied before, it sweeps nothing', async () => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(dir, [{ type: 'file', path: 'x', content: 'extra' }]);
    const events: EventInput[] = [{ type: 'mkdir', path: 'a', mode: 0o755 }, { type: 'create', path: 'a/f', mode: 0o644 }, { type: 'commit' }];
    const records = stream(events, { source: 'old', full: true });
    await rejectsWith(applyRecords(feed(records.slice(0, -1), undefined, new RillError('stream', 'cut')), dir, { log: () => {} }), 'stream', /cut/);
    assert.ok(existsSync(join(dir, 'x')), 'the root is swept at the end, which was not reached');
    await applyRecords(feed(records), dir, { log: () => {} });
    assert.deepEqual(readdirSync(dir).sort(), ['.rill', 'a']);
    // a change set of the same source, then the old full stream again: all of it was applied, nothing is swept
    await replay(dir, [{ type: 'create', path: 'new', mode: 0o644 }, { type: 'commit' }], { force: false }, { source: 'old', first: 4, base: 3 });
    const again = await applyRecords(feed(records), dir, { log: () => {} });
    assert.equal(again.skipped, 3);
    assert.deepEqual(readdirSync(dir).sort(), ['.rill', 'a', 'new']);
  } finally {
    cleanup();
  }
});
