// fio as the writer: several jobs of random writes with crc32c verification headers, through the
// mount (buffered, O_DIRECT, and shared mmap), then `fio --verify_only` reads them back on the replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CACHES, mountDirs, must, requireFuse, requireTool, startCapture, verify } from './harness.js';

/** One fio job file's options for a directory. */
function fioArgs(dir: string, name: string, extra: string[]): string[] {
  return [
    `--name=${name}`, `--directory=${dir}`, '--rw=randwrite', '--bs=4k', '--size=8m', '--numjobs=4',
    '--verify=crc32c', '--verify_fatal=1', '--randrepeat=1', '--random_generator=tausworthe64', '--group_reporting', '--verify_state_save=0', ...extra,
  ];
}

const MODES: [string, string[]][] = [
  ['buffered', ['--ioengine=psync', '--fsync=64']],
  ['direct', ['--ioengine=psync', '--direct=1']],
  ['mmap', ['--ioengine=mmap']],
];

for (const [label, cache] of CACHES) {
  test(`fio random writes (4 jobs; buffered, O_DIRECT, mmap) verify on the replica${label}`, async (t) => {
    if (!requireFuse(t) || !requireTool(t, 'fio')) return;
    const { root, rep, cleanup } = mountDirs('rill-mount-fio-');
    const run = await startCapture(root, rep, cache);
    try {
      for (const [name, extra] of MODES) must('fio', fioArgs(root, name, extra));
      const r = await run.stop();
      assert.equal(r.capture, 143, r.stderr);
      assert.equal(r.replay, 0, r.replayErr);
      for (const [name, extra] of MODES) {
        const out = must('fio', [...fioArgs(rep, name, extra.filter((x) => x !== '--direct=1')), '--verify_only']);
        assert.match(out, /err= 0/, `fio --verify_only ${name} on the replica`);
      }
      const v = verify(root, rep);
      assert.equal(v.code, 0, v.out);
    } finally {
      run.cleanup();
      cleanup();
    }
  });
}
