// The layer over xfs (a loop-mounted image): fio random writes with crc32c, hole punching and zero
// ranges through the mount; the replica, on the same xfs, verifies and is identical (sparseness too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loopFs, requireLoop } from '../freeze/loop.js';
import { must, requireFuse, requireTool, startCapture, stopAndVerify, verify } from './harness.js';

test('over xfs: fio random writes, punched holes and zeroed ranges replay to an identical replica', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'fio') || !requireLoop(t, 'xfs')) return;
  const fs = loopFs('xfs');
  const root = join(fs.dir, 'root');
  const rep = join(fs.dir, 'rep');
  mkdirSync(root);
  let run: Awaited<ReturnType<typeof startCapture>> | undefined;
  try {
    run = await startCapture(root, rep);
    const fio = (dir: string, extra: string[] = []) => must('fio', ['--name=x', `--directory=${dir}`, '--rw=randwrite', '--bs=16k', '--size=16m', '--numjobs=2', '--ioengine=psync', '--verify=crc32c', '--verify_state_save=0', '--randrepeat=1', '--group_reporting', ...extra]);
    fio(root);
    writeFileSync(join(root, 'sparse'), Buffer.alloc(4 << 20, 3));
    must('fallocate', ['--punch-hole', '--offset', String(1 << 20), '--length', String(1 << 20), join(root, 'sparse')]);
    must('fallocate', ['--zero-range', '--offset', String(3 << 20), '--length', String(64 << 10), join(root, 'sparse')]);
    must('fallocate', ['--offset', String(4 << 20), '--length', String(1 << 20), join(root, 'sparse')]); // grows it
    await stopAndVerify(run, root, rep);
    assert.match(fio(rep, ['--verify_only']), /err= 0/);
  } finally {
    run?.cleanup();
    fs.cleanup();
  }
});
