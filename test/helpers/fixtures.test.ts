// Proof that the network fixtures work: a private sshd (loopback and inside a namespace), a link that
// can be cut and slowed, real ssh/rill through them, and nothing left behind afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { spawnSync } from 'node:child_process';
import { makeTree, tempDir, isRoot, requireCapability, type EntrySpec } from './tree.js';
import { rill, sh, q } from './cli.js';
import { startSshd, sshdAvailable, remoteRill, pidAlive, type Sshd } from './sshd.js';
import { createLink, netnsMissing, python3Available, type Link, type LinkKind } from './netns.js';

const TREE: EntrySpec[] = [
  { type: 'dir', path: 'etc', mode: 0o755 },
  { type: 'file', path: 'etc/app.conf', content: 'listen = 8080\n', mode: 0o640 },
  { type: 'file', path: 'data.bin', content: Buffer.alloc(300_000, 0x5a) },
  { type: 'link', path: 'etc/app.conf.hard', target: 'etc/app.conf' },
  { type: 'symlink', path: 'current', target: 'etc/app.conf' },
];

const sshdMissing = !isRoot ? 'root (sshd logs in as root)' : !sshdAvailable() ? 'openssh-server and openssh-client (/usr/sbin/sshd, ssh, ssh-keygen)' : null;
const nsMissing = sshdMissing ?? netnsMissing();

/** Runs argv, returning exit code and elapsed ms. */
function timed(argv: string[]): { code: number; ms: number; stderr: string } {
  const t0 = performance.now();
  const r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
  return { code: r.status ?? -1, ms: performance.now() - t0, stderr: r.stderr?.toString() ?? '' };
}

/** Time for one TCP handshake (SYN → SYN-ACK: exactly one round trip). */
function connectMs(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const s = connect({ host, port }, () => {
      resolve(performance.now() - t0);
      s.destroy();
    });
    s.once('error', reject);
  });
}

/** capture --scan | ssh … replay, then verify; `remote` builds the remote command from the target dir. */
function replicateOver(sshd: Sshd, remote: (dst: string) => string): void {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(`${dir}/src`, TREE, [{ path: 'etc/app.conf', uid: 1000, gid: 1000, mtime: 1_700_000_000_123_456_789n }]);
    const r = sh(`rill capture --scan ${q(`${dir}/src`)} | ${sshd.commandLine(remote(`${dir}/dst`))}`);
    assert.equal(r.code, 0, `${r.stderr}\nsshd log:\n${sshd.log()}`);
    const v = rill(['verify', `${dir}/src`, `${dir}/dst`]);
    assert.equal(v.code, 0, `verify: ${v.stdout}${v.stderr}`);
  } finally {
    cleanup();
  }
}

test('sshd on loopback: capture --scan | ssh host replay, then verify identical', async (t) => {
  if (!requireCapability(t, sshdMissing === null, sshdMissing!)) return;
  const sshd = await startSshd();
  try {
    assert.equal(sshd.host, '127.0.0.1');
    replicateOver(sshd, (dst) => remoteRill(['replay', dst]));
  } finally {
    await sshd.stop();
  }
});

for (const kind of ['veth', 'tun'] as LinkKind[]) {
  test(`sshd in a namespace over a ${kind} link: replicates; link down → connect fails; link up → works again`, async (t) => {
    const missing = nsMissing ?? (kind === 'tun' && !python3Available() ? 'python3 (user-space link)' : null);
    if (!requireCapability(t, missing === null, missing!)) return;
    const link = await createLink({ kind });
    let sshd: Sshd | undefined;
    try {
      sshd = await startSshd({ netns: link.ns, address: link.nsAddr });
      assert.equal(sshd.host, link.nsAddr);
      // Plain `rill` on the remote PATH, as the README writes it.
      replicateOver(sshd, (dst) => `rill replay ${q(dst)}`);

      await link.down();
      const cut = timed(sshd.command('true', ['-o', 'ConnectTimeout=2']));
      assert.equal(cut.code, 255, `ssh over a cut link must fail: ${cut.stderr}`);
      assert.match(cut.stderr, /timed out|unreachable/i);

      await link.up();
      const back = timed(sshd.command('true', ['-o', 'ConnectTimeout=10']));
      assert.equal(back.code, 0, `ssh after link up: ${back.stderr}`);
    } finally {
      await sshd?.stop();
      await link.destroy();
    }
  });
}

test('netem: 50 ms each way adds ≥ 100 ms to a round trip; 100 % loss cuts; a rate cap slows; clearNetem restores', async (t) => {
  if (!requireCapability(t, nsMissing === null, nsMissing!)) return;
  const link = await createLink(); // kernel netem when the kernel has it, else the user-space link
  let sshd: Sshd | undefined;
  try {
    sshd = await startSshd({ netns: link.ns, address: link.nsAddr });
    await link.netem({ delayMs: 50 });
    const rtt = await connectMs(sshd.host, sshd.port);
    assert.ok(rtt >= 100, `TCP handshake over ${link.kind} link with 50 ms each way took ${rtt.toFixed(1)} ms`);
    const slow = timed(sshd.command('true'));
    assert.equal(slow.code, 0, slow.stderr);
    assert.ok(slow.ms >= 100, `ssh true took ${slow.ms.toFixed(0)} ms`);

    await link.netem({ lossPct: 100 });
    const lost = timed(sshd.command('true', ['-o', 'ConnectTimeout=2']));
    assert.equal(lost.code, 255, 'nothing gets through at 100 % loss');

    // 2000 kbit/s = 250 kB/s: 500 kB of (incompressible) payload needs ≥ 2 s.
    await link.netem({ rateKbit: 2000 });
    const capped = timed(sshd.command('head -c 500000 /dev/urandom', ['-o', 'Compression=no']));
    assert.equal(capped.code, 0, capped.stderr);
    assert.ok(capped.ms >= 2000, `500 kB at 2000 kbit/s took ${capped.ms.toFixed(0)} ms`);

    await link.clearNetem();
    const fast = timed(sshd.command('true', ['-o', 'ConnectTimeout=5']));
    assert.equal(fast.code, 0, fast.stderr);
  } finally {
    await sshd?.stop();
    await link.destroy();
  }
});

test('stop() and destroy() leave no sshd, session process, namespace, interface or temp dir behind', async (t) => {
  if (!requireCapability(t, nsMissing === null, nsMissing!)) return;
  // Loopback sshd; its client is killed, which leaves the remote command running as an orphan of
  // sshd (as after `kill the ssh client mid-stream`): stop() must end it too.
  const lo = await startSshd();
  const session = spawnSync('bash', ['-c', `${lo.commandLine('echo $$; exec sleep 300 </dev/null >/dev/null 2>&1')} & sleep 1; kill $!`], { timeout: 20_000 });
  const remotePid = Number(session.stdout.toString().trim());
  assert.ok(remotePid > 0 && pidAlive(remotePid), `a remote session process is running (${session.stderr})`);
  await lo.stop();
  assert.ok(!pidAlive(lo.pid), 'loopback sshd is gone');
  assert.ok(!pidAlive(remotePid), 'the orphaned remote command is gone');
  assert.ok(!existsSync(lo.dir), 'its temp dir is gone');
  await lo.stop(); // idempotent

  // destroy() alone also ends an sshd still running inside the namespace, and removes the link.
  const link: Link = await createLink();
  const inner = await startSshd({ netns: link.ns, address: link.nsAddr });
  await link.destroy();
  assert.ok(!pidAlive(inner.pid), 'sshd inside the namespace is gone');
  assert.ok(!spawnSync('ip', ['netns', 'list']).stdout.toString().split('\n').some((l) => l.split(' ')[0] === link.ns), `${link.ns} is gone`);
  assert.notEqual(spawnSync('ip', ['link', 'show', link.hostIf]).status, 0, `${link.hostIf} is gone`);
  await inner.stop();
  assert.ok(!existsSync(inner.dir), 'its temp dir is gone');
  await link.destroy(); // idempotent
});
