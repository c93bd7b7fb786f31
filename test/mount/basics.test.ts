// Every kind of mutation through a mount, replayed live into a replica that ends identical.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fchmodSync, futimesSync, chmodSync, chownSync, linkSync, mkdirSync, openSync, closeSync, readFileSync, renameSync, rmdirSync, symlinkSync, truncateSync, unlinkSync, utimesSync, writeFileSync, writeSync, ftruncateSync, fsyncSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { exchange, fuseMountsAt, mountDirs, must, requireFuse, requireTool, startCapture, verify } from './harness.js';

test('every kind of mutation through the mount replays to an identical replica', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'setfattr', 'attr') || !requireTool(t, 'python3')) return;
  const { root, rep, cleanup } = mountDirs('rill-mount-');
  const run = await startCapture(root, rep);
  try {
    const p = (s: string) => join(root, s);
    mkdirSync(p('d/e'), { recursive: true });
    writeFileSync(p('d/e/f'), 'hello world\n');
    const fd = openSync(p('big'), 'w');
    writeSync(fd, Buffer.alloc(3 << 20, 7), 0, 3 << 20, 0);
    writeSync(fd, Buffer.from('tail'), 0, 4, 5 << 20); // a hole in between
    ftruncateSync(fd, (5 << 20) + 2);
    fsyncSync(fd);
    closeSync(fd);
    must('fallocate', ['--punch-hole', '--offset', '65536', '--length', '131072', p('big')]);
    linkSync(p('d/e/f'), p('hard'));
    symlinkSync('d/e/f', p('sym'));
    must('mkfifo', [p('fifo')]);
    must('setfattr', ['-n', 'user.colour', '-v', 'blue', p('d/e/f')]);
    writeFileSync(p('gone'), 'x');
    must('setfattr', ['-n', 'user.tmp', '-v', '1', p('gone')]);
    must('setfattr', ['-x', 'user.tmp', p('gone')]);
    unlinkSync(p('gone'));
    chmodSync(p('d/e/f'), 0o640);
    const dfd = openSync(p('d'), 'r'); // fchmod and futimes on an open directory
    fchmodSync(dfd, 0o711);
    futimesSync(dfd, new Date('2010-01-01T00:00:00Z'), new Date('2010-01-01T00:00:00Z'));
    closeSync(dfd);
    chownSync(p('d/e/f'), 1234, 5678);
    writeFileSync(p('a'), 'A');
    writeFileSync(p('b'), 'B');
    exchange(p('a'), p('b'));
    renameSync(p('d/e'), p('moved'));
    writeFileSync(p('moved/f2'), 'in a moved directory');
    mkdirSync(p('empty'));
    rmdirSync(p('empty'));
    truncateSync(p('hard'), 5);
    writeFileSync(p('appended'), 'one\n');
    writeFileSync(p('appended'), 'two\n', { flag: 'a' });
    utimesSync(p('a'), new Date('2001-02-03T04:05:06Z'), new Date('2001-02-03T04:05:06Z'));
    assert.equal(readFileSync(p('appended'), 'utf8'), 'one\ntwo\n');
    assert.equal(readFileSync(p('a'), 'utf8'), 'B');
    const r = await run.stop('SIGTERM');
    assert.equal(r.capture, 143, r.stderr);
    assert.equal(r.replay, 0, r.replayErr);
    assert.deepEqual(fuseMountsAt(root), [], 'the mount is gone after SIGTERM');
    const v = verify(root, rep);
    assert.equal(v.code, 0, v.out);
    assert.equal(readFileSync(join(rep, 'moved/f'), 'utf8'), 'hello');
    assert.equal(spawnSync('getfattr', ['--only-values', '-n', 'user.colour', join(rep, 'moved/f')], { encoding: 'utf8' }).stdout, 'blue');
  } finally {
    run.cleanup();
    cleanup();
  }
});

test('SIGINT stops with 130 and a complete stream; --at mounts elsewhere and leaves ROOT unmounted', async (t) => {
  if (!requireFuse(t)) return;
  const { dir, cleanup } = tempDir('rill-mount-');
  const root = join(dir, 'root');
  const at = join(dir, 'at');
  const rep = join(dir, 'rep');
  mkdirSync(root);
  mkdirSync(at);
  const run = await startCapture(root, rep, ['--at', at]);
  try {
    assert.deepEqual(fuseMountsAt(root), []);
    assert.equal(fuseMountsAt(at).length, 1);
    writeFileSync(join(at, 'through-the-mount'), 'seen');
    assert.equal(readFileSync(join(root, 'through-the-mount'), 'utf8'), 'seen');
    const r = await run.stop('SIGINT');
    assert.equal(r.capture, 130, r.stderr);
    assert.equal(r.replay, 0, r.replayErr);
    assert.deepEqual(fuseMountsAt(at), []);
    assert.equal(readFileSync(join(rep, 'through-the-mount'), 'utf8'), 'seen');
    const v = verify(root, rep);
    assert.equal(v.code, 0, v.out);
  } finally {
    run.cleanup();
    cleanup();
  }
});
