// rill ship through real ssh to a private sshd, with the faults of issue #4: the ssh client killed
// mid-stream, the remote sink killed, the link cut and restored, delay and loss. Each case ends with
// the replica identical (rill verify) and, through ship --sink, every event stored exactly once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, existsSync, openSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';
import { q, RILL, rill, sh } from '../helpers/cli.js';
import { startSshd, sshdAvailable, type Sshd } from '../helpers/sshd.js';
import { createLink, netnsMissing } from '../helpers/netns.js';
import { background, makeSource, segments, seqsOf, until } from './helpers.js';

const sshdMissing = !isRoot ? 'root (sshd logs in as root)' : !sshdAvailable() ? 'openssh-server and openssh-client' : null;

/** The remote side runs this checkout's rill with this node, by absolute path. */
const remote = (args: string): string => `${process.execPath} ${RILL} ${args}`;

function identical(a: string, b: string): void {
  const v = rill(['verify', a, b]);
  assert.equal(v.code, 0, `verify ${a} ${b}: ${v.stdout}${v.stderr}`);
}

/** The source captured to a file, and its size. */
function captured(dir: string, mib: number): { src: string; file: string } {
  const src = join(dir, 'src');
  makeSource(src, mib);
  const file = join(dir, 's.rill');
  assert.equal(sh(`rill capture --scan ${q(src)} > ${q(file)}`).code, 0);
  return { src, file };
}

/** ship < file -- ssh … CMD in the background (a slow --bwlimit leaves time for a fault). */
function shipInBackground(sshd: Sshd, file: string, remoteCmd: string, flags: string[]): ReturnType<typeof background> {
  const fd = openSync(file, 'r');
  const b = background(['ship', '--compress', 'none', ...flags, '--', ...sshd.command(remoteCmd)], fd);
  closeSync(fd);
  return b;
}

/** Kills (SIGKILL) the processes whose command line contains `marker`; returns how many. */
function pkill(marker: string): number {
  try {
    const out = execFileSync('pgrep', ['-f', marker]).toString().trim().split('\n').filter(Boolean);
    for (const pid of out) if (Number(pid) !== process.pid) execFileSync('kill', ['-9', pid]);
    return out.length;
  } catch {
    return 0;
  }
}

test('over ssh: capture | ship -- ssh host rill replay --ack: identical', async (t) => {
  if (!requireCapability(t, sshdMissing === null, sshdMissing!)) return;
  const sshd = await startSshd();
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    makeSource(src, 3);
    const r = sh(`rill capture --scan ${q(src)} | rill ship -- ${sshd.commandLine(remote(`replay --ack ${q(join(dir, 'dst'))}`))}`);
    assert.equal(r.code, 0, `${r.stderr}\n${sshd.log()}`);
    identical(src, join(dir, 'dst'));
  } finally {
    cleanup();
    await sshd.stop();
  }
});

test('over ssh: the ssh client killed mid-stream, then the remote sink killed: every event stored once', async (t) => {
  if (!requireCapability(t, sshdMissing === null, sshdMissing!)) return;
  const sshd = await startSshd();
  const { dir, cleanup } = tempDir();
  try {
    const { src, file } = captured(dir, 4);
    const inbox = join(dir, 'inbox');
    const stored = (): number => segments(inbox).reduce((n, f) => n + statSync(f).size, 0);
    const ship = shipInBackground(sshd, file, remote(`ship --sink ${q(inbox)}`), ['--bwlimit', '1M', '--ack-timeout', '5s']);
    await until(() => stored() > 600_000, 'the first 600 KB at the sink');
    assert.ok(pkill(`^ssh .*-p ${sshd.port} `) > 0, 'an ssh client to kill');
    await until(() => /reconnecting in/.test(ship.stderr()), 'ship to see the transport die');
    await until(() => stored() > 1_500_000, '1.5 MB at the sink');
    assert.ok(pkill(`^${process.execPath} .*ship --sink ${inbox}`) > 0, 'a remote sink to kill');
    assert.equal(await ship.exit, 0, `${ship.stderr()}\n${sshd.log()}`);
    assert.ok((ship.stderr().match(/reconnecting in/g) ?? []).length >= 2, ship.stderr());
    assert.deepEqual(seqsOf(segments(inbox)), seqsOf([file]), 'every event once, in order');
    assert.equal(rill(['replay', join(dir, 'dst'), ...segments(inbox)]).code, 0);
    identical(src, join(dir, 'dst'));
  } finally {
    cleanup();
    await sshd.stop();
  }
});

test('over ssh: the remote replay killed mid-stream resumes; the replica is identical', async (t) => {
  if (!requireCapability(t, sshdMissing === null, sshdMissing!)) return;
  const sshd = await startSshd();
  const { dir, cleanup } = tempDir();
  try {
    const { src, file } = captured(dir, 4);
    const dst = join(dir, 'dst');
    const ship = shipInBackground(sshd, file, remote(`replay --ack ${q(dst)}`), ['--bwlimit', '1M']);
    await until(() => existsSync(join(dst, 'd', 'e')), 'the replica to be under way');
    await until(() => pkill(`^${process.execPath} .*replay --ack ${dst}`) > 0, 'a remote replay to kill');
    assert.equal(await ship.exit, 0, `${ship.stderr()}\n${sshd.log()}`);
    assert.match(ship.stderr(), /reconnecting in/);
    identical(src, dst);
  } finally {
    cleanup();
    await sshd.stop();
  }
});

test('over ssh in a namespace: the link cut for seconds, then restored; with delay and loss it still completes', async (t) => {
  const missing = sshdMissing ?? netnsMissing();
  if (!requireCapability(t, missing === null, missing!)) return;
  const link = await createLink();
  let sshd: Sshd | undefined;
  const { dir, cleanup } = tempDir();
  try {
    sshd = await startSshd({ netns: link.ns, address: link.nsAddr });
    const { src, file } = captured(dir, 3);
    const inbox = join(dir, 'inbox');
    const stored = (): number => segments(inbox).reduce((n, f) => n + statSync(f).size, 0);
    const ship = shipInBackground(sshd, file, remote(`ship --sink ${q(inbox)}`), ['--bwlimit', '1M', '--ack-timeout', '3s']);
    await until(() => stored() > 500_000, 'the first 500 KB at the sink');
    await link.down();
    await until(() => /nothing from the sink for \d+ s/.test(ship.stderr()), 'ship to notice the dead link', 30_000);
    await new Promise((r) => setTimeout(r, 2000));
    await link.up();
    assert.equal(await ship.exit, 0, `${ship.stderr()}\n${sshd.log()}`);
    assert.deepEqual(seqsOf(segments(inbox)), seqsOf([file]), 'every event once, in order, across the cut');
    assert.equal(rill(['replay', join(dir, 'dst'), ...segments(inbox)]).code, 0);
    identical(src, join(dir, 'dst'));

    // 50 ms each way and 1% loss: slower, never wrong.
    await link.netem({ delayMs: 50, lossPct: 1 });
    const r = sh(`rill ship --ack-timeout 10s -- ${sshd.commandLine(remote(`replay --ack ${q(join(dir, 'dst2'))}`))} < ${q(file)}`);
    assert.equal(r.code, 0, `${r.stderr}\n${sshd.log()}`);
    identical(src, join(dir, 'dst2'));
  } finally {
    cleanup();
    await sshd?.stop();
    await link.destroy();
  }
});
