// kill -9 of the capture: the layer notices (its command pipe closes, its record pipe breaks),
// unmounts, and exits, so an application's next write fails instead of going unrecorded; a full
// --scan resync then repairs the replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { join } from 'node:path';
import { sh, q } from '../helpers/cli.js';
import { fuseMountsAt, mountDirs, requireFuse, requireTool, startCapture, verify } from './harness.js';

const HOLDER = `
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
os.write(fd, b'before the crash\\n')
print('ready', flush=True)
sys.stdin.readline()
try:
    os.write(fd, b'after the crash\\n')
    os.fsync(fd)
    print('wrote', flush=True)
except OSError as e:
    print('error', e.errno, flush=True)
`;

test('kill -9 of the capture unmounts: the next write fails, and a --scan resync repairs the replica', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'python3')) return;
  const { root, rep, cleanup } = mountDirs('rill-mount-crash-');
  const run = await startCapture(root, rep);
  try {
    writeFileSync(join(root, 'a'), 'captured');
    const holder = spawn('python3', ['-c', HOLDER, join(root, 'held')], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    holder.stdout.setEncoding('utf8');
    holder.stdout.on('data', (d: string) => (out += d));
    while (!out.includes('ready')) await sleep(20);
    run.capture.kill('SIGKILL');
    for (let i = 0; i < 100 && fuseMountsAt(root).length > 0; i++) await sleep(50);
    assert.deepEqual(fuseMountsAt(root), [], 'the layer unmounted when its capture died');
    holder.stdin.end('go\n');
    await new Promise((r) => holder.once('exit', r));
    assert.match(out, /error (107|5|19)\b/, `the held file's next write fails (ENOTCONN/EIO/ENODEV): ${out}`);
    await new Promise((r) => (run.replay!.exitCode !== null ? r(0) : run.replay!.once('exit', r)));
    assert.notEqual(run.replay!.exitCode, 0, 'replay saw a stream without its end record');
    writeFileSync(join(root, 'b'), 'written while no capture ran');
    const resync = sh(`rill capture --scan ${q(root)} | rill replay --force ${q(rep)}`);
    assert.equal(resync.code, 0, resync.stderr);
    const v = verify(root, rep);
    assert.equal(v.code, 0, v.out);
  } finally {
    run.cleanup();
    cleanup();
  }
});

test('kill -9 of the FUSE layer: the capture exits 5 without an end record, and the mount is gone', async (t) => {
  if (!requireFuse(t)) return;
  const { root, rep, cleanup } = mountDirs('rill-mount-crash-');
  const run = await startCapture(root, rep);
  try {
    writeFileSync(join(root, 'a'), 'captured');
    const layerPid = Number(/FUSE layer pid (\d+)/.exec(run.stderr())![1]);
    process.kill(layerPid, 'SIGKILL');
    const code = await new Promise((r) => (run.capture.exitCode !== null ? r(run.capture.exitCode) : run.capture.once('exit', r)));
    assert.equal(code, 5, run.stderr());
    assert.match(run.stderr(), /FUSE layer serving .* was killed by SIGKILL.*resync/);
    assert.deepEqual(fuseMountsAt(root), []);
    const rcode = await new Promise((r) => (run.replay!.exitCode !== null ? r(run.replay!.exitCode) : run.replay!.once('exit', r)));
    assert.notEqual(rcode, 0, 'replay does not take a stream without its end record as complete');
  } finally {
    run.cleanup();
    cleanup();
  }
});
