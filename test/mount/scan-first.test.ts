// --scan-first: one stream copies the tree as it is (writers wait during the copy), then carries
// the live changes; writes racing with the start are neither lost nor applied out of order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { makeTree } from '../helpers/tree.js';
import { mountDirs, requireFuse, startCapture, verify } from './harness.js';

test('--scan-first: an existing tree and writes racing with the copy end identical in a new replica', async (t) => {
  if (!requireFuse(t)) return;
  const { dir, root, rep, cleanup } = mountDirs('rill-mount-first-');
  makeTree(root, [
    { type: 'dir', path: 'a' },
    { type: 'dir', path: 'a/b' },
    ...Array.from({ length: 200 }, (_, i) => ({ type: 'file' as const, path: `a/b/f${i}`, content: Buffer.alloc(5000 + i, i) })),
    { type: 'file', path: 'big', content: Buffer.alloc(3 << 20, 9) },
    { type: 'symlink', path: 'link', target: 'a/b/f1' },
  ]);
  const run = await startCapture(root, rep, ['--scan-first']);
  try {
    // a writer that starts as the copy does: it waits for the copy, then its changes follow it
    const writer = spawn('sh', ['-c', `for i in $(seq 1 200); do echo $i >> '${root}/a/b/f7'; echo $i > '${root}/new$((i % 5))'; done`], { stdio: 'ignore' });
    await new Promise((r) => (writer.exitCode !== null ? r(0) : writer.once('exit', r)));
    while (!/initial copy: \d+ events/.test(run.stderr())) await new Promise((r) => setTimeout(r, 50));
    const r = await run.stop();
    assert.equal(r.capture, 143, r.stderr);
    assert.equal(r.replay, 0, r.replayErr);
    assert.match(r.stderr, /initial copy: \d+ events/);
    const v = verify(root, rep);
    assert.equal(v.code, 0, v.out);
  } finally {
    run.cleanup();
    cleanup();
  }
});
