// What capture --mount refuses, with the message and exit code a user sees: a mount point that is
// already FUSE, a journal or socket inside ROOT, flags without --mount, a missing native layer, a
// control client that is neither root nor the owner. And a stale mount from a crash, cleaned up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { rill } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';
import { fuseMountsAt, requireFuse, startCapture } from './harness.js';

test('usage errors: journal or control socket inside ROOT, mount-only flags, --scan with --mount (exit 2)', (t) => {
  if (!requireFuse(t)) return;
  const { dir, cleanup } = tempDir('rill-mount-bad-');
  try {
    const root = join(dir, 'root');
    mkdirSync(root);
    let r = rill(['capture', '--mount', root, '--journal', join(root, 'j')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--journal .* is inside the captured tree .*record itself/);
    r = rill(['capture', '--mount', root, '--journal', join(dir, 'j'), '--control', join(root, 'sub/ctl.sock')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--control .* is inside the captured tree/);
    r = rill(['capture', '--scan', root, '--control', join(dir, 's')]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--control needs --mount/);
    r = rill(['capture', '--mount', root, '--journal-max', '1G']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--journal-max needs --journal/);
    r = rill(['capture', '--mount', '--scan', root]);
    assert.equal(r.code, 2, r.stderr);
    r = rill(['capture', '--mount', root, '--exclude', '']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /empty --include\/--exclude pattern/);
    assert.deepEqual(fuseMountsAt(root), []);
  } finally {
    cleanup();
  }
});

test('a missing native layer exits 6 naming the packages to install', () => {
  const { dir, cleanup } = tempDir('rill-mount-bad-');
  try {
    const r = spawnSync(join(import.meta.dirname, '../../bin/rill'), ['capture', '--mount', dir], { encoding: 'utf8', env: { ...process.env, RILL_FUSE_BIN: join(dir, 'no-such-rill-fuse') } });
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stderr, /not built/);
    assert.match(r.stderr, /libfuse3-dev fuse3/);
  } finally {
    cleanup();
  }
});

test('a path that is already a FUSE mount is refused (exit 8); a stale one from a crash is cleaned up', async (t) => {
  if (!requireFuse(t)) return;
  const { dir, cleanup } = tempDir('rill-mount-bad-');
  const root = join(dir, 'root');
  mkdirSync(root);
  const first = await startCapture(root, undefined);
  let second: Awaited<ReturnType<typeof startCapture>> | undefined;
  try {
    const r = rill(['capture', '--mount', root]);
    assert.equal(r.code, 8, r.stderr);
    assert.match(r.stderr, /already a FUSE mount \(fuse\.rill/);
    // a crash of both processes leaves the mount stale: every access fails with ENOTCONN
    const layerPid = Number(/FUSE layer pid (\d+)/.exec(first.stderr())![1]);
    process.kill(layerPid, 'SIGKILL');
    first.capture.kill('SIGKILL');
    await new Promise((res) => first.capture.once('exit', res));
    // the bridge may have detached it already when it saw the layer die; make it stale again if not
    const wasStale = fuseMountsAt(root).length > 0;
    if (wasStale) {
      const st = spawnSync('stat', ['-f', root], { encoding: 'utf8' });
      assert.match(st.stderr, /Transport endpoint is not connected/);
    }
    second = await startCapture(root, undefined);
    assert.equal(fuseMountsAt(root).length, 1, 'exactly one mount: the stale one is gone');
    if (wasStale) assert.match(second.stderr(), /cleaned up a stale FUSE mount/);
    t.diagnostic(wasStale ? 'the crash left a stale mount, cleaned up by the next capture' : 'the bridge detached the mount before it was killed');
    const r2 = await second.stop();
    assert.equal(r2.capture, 143, r2.stderr);
  } finally {
    first.cleanup();
    second?.cleanup();
    cleanup();
  }
});

test('a control client that is neither root nor the owner cannot connect, and is refused if the socket is opened up', async (t) => {
  if (!requireFuse(t)) return;
  const { dir, cleanup } = tempDir('rill-mount-bad-');
  chmodSync(dir, 0o755);
  const root = join(dir, 'root');
  const sock = join(dir, 'ctl.sock');
  mkdirSync(root);
  const run = await startCapture(root, undefined, ['--control', sock]);
  const asNobody = (): string => {
    const js = `const s=require('net').connect(${JSON.stringify(sock)});s.on('error',e=>{console.log('error '+e.code);process.exit(0)});s.on('connect',()=>s.write(JSON.stringify({op:'status'})+'\\n'));s.on('data',d=>{console.log(String(d).trim());process.exit(0)});`;
    const r = spawnSync(process.execPath, ['-e', js], { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 10000 });
    return r.stdout.trim();
  };
  try {
    assert.equal(asNobody(), 'error EACCES', 'mode 0600 keeps other users out');
    chmodSync(sock, 0o666);
    const reply = JSON.parse(asNobody()) as { ok: boolean; code: string; error: string };
    assert.deepEqual([reply.ok, reply.code], [false, 'denied']);
    assert.match(reply.error, /uid 65534/);
    const r = await run.stop();
    assert.equal(r.capture, 143);
    assert.match(r.stderr, /refused a connection from uid 65534/);
  } finally {
    run.cleanup();
    cleanup();
  }
});
