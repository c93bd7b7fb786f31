// The layer negotiates FUSE_HANDLE_KILLPRIV_V2 (native/fuse/io.c), so the kernel no longer asks for
// security.capability before every write and leaves killing suid/sgid to the layer: a write, a
// truncate and an O_TRUNC open by a caller without CAP_FSETID clear them, the new mode is recorded,
// and stat through the mount shows it at once; root (CAP_FSETID) keeps them. The replica follows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mountDirs, requireFuse, requireTool, startCapture } from './harness.js';

test('suid/sgid are killed by an unprivileged write, truncate and O_TRUNC open, kept for root; the replica follows', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'setpriv', 'util-linux')) return;
  const { dir, root, rep, cleanup } = mountDirs('rill-mount-killpriv-');
  chmodSync(dir, 0o755);
  const run = await startCapture(root, rep);
  try {
    chmodSync(root, 0o777); // through the mount: recorded
    const p = (s: string) => join(root, s);
    const mode = (s: string) => statSync(p(s)).mode & 0o7777;
    for (const [name, m] of [['w', 0o4777], ['t', 0o6777], ['o', 0o4777], ['r', 0o4755], ['g', 0o2766]] as const) {
      writeFileSync(p(name), 'hello\n');
      chmodSync(p(name), m);
    }
    const nobody = (cmd: string) => {
      const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', cmd], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    nobody(`echo more >> ${p('w')}; truncate -s 2 ${p('t')}; echo new > ${p('o')}; echo x >> ${p('g')}`);
    appendFileSync(p('r'), 'root writes\n');
    assert.equal(mode('w'), 0o777, 'a write by nobody kills suid (and stat shows it at once)');
    assert.equal(mode('t'), 0o777, 'a truncate by nobody kills suid and sgid (group-executable)');
    assert.equal(mode('o'), 0o777, 'an O_TRUNC open by nobody kills suid');
    assert.equal(mode('g'), 0o2766, 'sgid without group execute stays');
    assert.equal(mode('r'), 0o4755, 'root (CAP_FSETID) keeps suid');
    // the replica: the same modes and bytes (checked per file: the root directory's own times are not what this is about)
    const same = () => ['w', 't', 'o', 'r', 'g'].every((n) => { try { return (statSync(join(rep, n)).mode & 0o7777) === mode(n) && readFileSync(join(rep, n)).equals(readFileSync(p(n))); } catch { return false; } });
    for (let i = 0; i < 100 && !same(); i++) await new Promise((r) => setTimeout(r, 100));
    for (const n of ['w', 't', 'o', 'r', 'g']) assert.equal((statSync(join(rep, n)).mode & 0o7777).toString(8), mode(n).toString(8), `replica mode of ${n}`);
    assert.ok(same());
  } finally {
    const r = await run.stop();
    run.cleanup();
    cleanup();
    assert.equal(r.capture, 143, r.stderr);
  }
});
