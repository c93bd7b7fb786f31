// A quiescent point while the capture runs: once a pause is granted, the changes before it —
// the directories' own times included, which follow lazily — reach the replica, and
// `rill verify master replica` reports identical without stopping the capture.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../helpers/tree.js';
import { requireFuse, startCapture, verify } from './harness.js';
import { RawControl } from './control-client.js';

test('paused, the live replica converges to identical, directory times included', async (t) => {
  if (!requireFuse(t)) return;
  const { dir, cleanup } = tempDir('rill-mount-quiet-');
  const root = join(dir, 'root');
  const rep = join(dir, 'rep');
  const sock = join(dir, 'ctl.sock');
  mkdirSync(root);
  const run = await startCapture(root, rep, ['--control', sock]);
  let ctl: RawControl | undefined;
  try {
    // Changes that touch the root directory's and a subdirectory's times last.
    mkdirSync(join(root, 'd'));
    for (let i = 0; i < 20; i++) writeFileSync(join(root, i % 2 ? 'd' : '', `f${i}`), `content ${i}\n`.repeat(i + 1));
    renameSync(join(root, 'f0'), join(root, 'd', 'moved'));
    rmSync(join(root, 'd', 'f1'));
    chmodSync(join(root, 'd'), 0o750);
    writeFileSync(join(root, 'last'), 'last\n');
    ctl = await RawControl.open(sock);
    const p = await ctl.ask({ op: 'pause', timeoutMs: 60_000 });
    assert.equal(p.ok, true, JSON.stringify(p));
    let v = verify(root, rep);
    for (let i = 0; i < 40 && v.code !== 0; i++) {
      await sleep(250);
      v = verify(root, rep);
    }
    assert.equal(v.code, 0, `the replica did not converge while paused:\n${v.out}`);
  } finally {
    ctl?.close();
    const r = await run.stop();
    run.cleanup();
    cleanup();
    assert.equal(r.capture, 143, r.stderr);
  }
});
