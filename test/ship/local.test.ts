// rill ship end to end through local transports (a sink started directly or by sh -c), with the
// faults that need no network: a transport cut mid-stream, ship killed and restarted on its spool,
// a banner, a foreign protocol, garbage, a sink of another source, a dead destination, full disks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';
import { q, RILL, rill, sh } from '../helpers/cli.js';
import { controlBytes, SESSION_SIGNATURE } from '../../src/ship/session.js';
import { background, makeSource, rillLine, segments, seqsOf, until } from './helpers.js';

const identical = (a: string, b: string): void => {
  const v = rill(['verify', a, b]);
  assert.equal(v.code, 0, `verify ${a} ${b}: ${v.stdout}${v.stderr}`);
};

test('capture | ship -- replay --ack: the replica is identical; --json reports every event acknowledged', () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    makeSource(src, 3);
    const r = sh(`rill capture --scan ${q(src)} | rill ship --json -- ${process.execPath} ${RILL} replay --ack ${q(join(dir, 'dst'))}`);
    assert.equal(r.code, 0, r.stderr);
    identical(src, join(dir, 'dst'));
    const stats = JSON.parse(r.stdout.toString()) as { exitStatus: number; destinations: { state: string; eventsSent: number; seqAcked: number }[] };
    assert.equal(stats.exitStatus, 0);
    assert.equal(stats.destinations[0]!.state, 'done');
    assert.ok(stats.destinations[0]!.eventsSent > 10);
  } finally {
    cleanup();
  }
});

test('ship --sink stores each event once across runs; the inbox replays to the source', () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    const inbox = join(dir, 'inbox');
    makeSource(src, 2);
    const state = join(dir, 'state');
    const streams: string[] = [];
    for (let run = 0; run < 3; run++) {
      if (run > 0) writeFileSync(join(src, `new${run}`), `run ${run}\n`);
      const file = join(dir, `s${run}.rill`);
      assert.equal(sh(`rill capture --scan --state ${q(state)} ${q(src)} > ${q(file)}`).code, 0);
      streams.push(file);
      const r = sh(`rill ship --to ${q(rillLine(`ship --sink ${q(inbox)}`))} < ${q(file)}`);
      assert.equal(r.code, 0, r.stderr);
    }
    // The last stream again (a re-sent one): nothing new is stored.
    const again = sh(`rill ship --to ${q(rillLine(`ship --sink ${q(inbox)}`))} < ${q(streams[2]!)}`);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(seqsOf(segments(inbox)), seqsOf(streams), 'every event once, in order');
    const rep = rill(['replay', join(dir, 'dst'), ...segments(inbox)]);
    assert.equal(rep.code, 0, rep.stderr);
    identical(src, join(dir, 'dst'));
  } finally {
    cleanup();
  }
});

test('a transport cut mid-stream: ship reconnects, the sink resumes, no event lost or stored twice', () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    const inbox = join(dir, 'inbox');
    makeSource(src, 4);
    const file = join(dir, 's.rill');
    assert.equal(sh(`rill capture --scan ${q(src)} > ${q(file)}`).code, 0);
    const marker = join(dir, 'cut-once');
    // First session: only 600 KB of the stream gets through, then the transport is gone.
    const transport = `if [ -e ${q(marker)} ]; then exec ${rillLine(`ship --sink ${q(inbox)}`)}; else touch ${q(marker)}; head -c 600000 | ${rillLine(`ship --sink ${q(inbox)}`)}; fi`;
    const r = sh(`rill ship --compress none --to ${q(transport)} < ${q(file)}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /reconnecting in/);
    assert.deepEqual(seqsOf(segments(inbox)), seqsOf([file]));
    assert.equal(rill(['replay', join(dir, 'dst'), ...segments(inbox)]).code, 0);
    identical(src, join(dir, 'dst'));
  } finally {
    cleanup();
  }
});

test('ship killed -9 mid-transfer, restarted on the same spool: delivered exactly once', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    const inbox = join(dir, 'inbox');
    const spool = join(dir, 'spool');
    makeSource(src, 4);
    const file = join(dir, 's.rill');
    assert.equal(sh(`rill capture --scan ${q(src)} > ${q(file)}`).code, 0);
    const fd = openSync(file, 'r');
    const first = background(['ship', '--spool', spool, '--compress', 'none', '--bwlimit', '1M', '--', process.execPath, RILL, 'ship', '--sink', inbox], fd);
    closeSync(fd);
    const stored = (): number => segments(inbox).reduce((n, f) => n + statSync(f).size, 0);
    await until(() => stored() > 500_000, 'the sink to store some of the stream');
    first.child.kill('SIGKILL');
    assert.equal(await first.exit, 137);
    assert.ok(stored() < statSync(file).size, 'killed before the end');
    const again = sh(`rill ship --spool ${q(spool)} -- ${process.execPath} ${RILL} ship --sink ${q(inbox)} < /dev/null`);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(seqsOf(segments(inbox)), seqsOf([file]));
    assert.equal(rill(['replay', join(dir, 'dst'), ...segments(inbox)]).code, 0);
    identical(src, join(dir, 'dst'));
    assert.deepEqual(segments(spool), [], 'the spool is trimmed once everything is acknowledged');
  } finally {
    cleanup();
  }
});

test('a login banner before the session is shown as a warning and skipped', () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    makeSource(src, 1);
    const r = sh(`rill capture --scan ${q(src)} | rill ship --to ${q(`echo 'Welcome to standby!'; exec ${rillLine(`replay --ack ${q(join(dir, 'dst'))}`)}`)}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /printed \d+ bytes before the rill session.*Welcome to standby!/);
    identical(src, join(dir, 'dst'));
  } finally {
    cleanup();
  }
});

test('a sink of another protocol version, garbage after the signature, a silent transport: clear errors', () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    makeSource(src, 1);
    assert.equal(sh(`rill capture --scan ${q(src)} > ${q(join(dir, 's.rill'))}`).code, 0);
    const hello = (proto: [number, number]): Buffer =>
      Buffer.concat([SESSION_SIGNATURE, controlBytes({ t: 'hello', proto, role: 'sink', node: 'x', source: null, seq: null, codecs: ['none'] })]);
    writeFileSync(join(dir, 'v2'), hello([2, 3]));
    writeFileSync(join(dir, 'garbage'), Buffer.concat([hello([1, 1]), Buffer.from('this is not CBOR at all')]));
    const shipTo = (out: string): ReturnType<typeof sh> => sh(`rill ship --retry-for 2s --ack-timeout 2s --to ${q(`cat ${q(join(dir, out))}; cat > /dev/null`)} < ${q(join(dir, 's.rill'))}`);
    const v2 = shipTo('v2');
    assert.equal(v2.code, 7, v2.stderr);
    assert.match(v2.stderr, /speaks session protocol 2\.\.3, this rill speaks 1\.\.1/);
    const garbage = shipTo('garbage');
    assert.equal(garbage.code, 3, garbage.stderr);
    assert.match(garbage.stderr, /malformed session record .*his is not CBOR/);
    const silent = sh(`rill ship --retry-for 2s --ack-timeout 1s --to 'exec sleep 30' < ${q(join(dir, 's.rill'))}`);
    assert.equal(silent.code, 5, silent.stderr);
    assert.match(silent.stderr, /nothing from the sink for \d+ s/);
    assert.match(silent.stderr, /giving up \(--retry-for\)/);
  } finally {
    cleanup();
  }
});

test('a sink that holds another source: ship stops with its refusal (exit 7) and changes nothing', () => {
  const { dir, cleanup } = tempDir();
  try {
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    makeSource(a, 1);
    makeSource(b, 1);
    writeFileSync(join(b, 'only-in-b'), 'b\n');
    const dst = join(dir, 'dst');
    assert.equal(sh(`rill capture --scan ${q(a)} | rill replay ${q(dst)}`).code, 0);
    const r = sh(`rill capture --scan ${q(b)} | rill ship -- ${process.execPath} ${RILL} replay --ack ${q(dst)}`);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /the sink .* stopped: .*is a replica of source/);
    identical(a, dst);
  } finally {
    cleanup();
  }
});

test('fan-out: a dead destination does not hold back a live one; ship reports it and exits 5', () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    makeSource(src, 2);
    const r = sh(
      `rill capture --scan ${q(src)} | rill ship --retry-for 3s --json --to ${q(rillLine(`replay --ack ${q(join(dir, 'live'))}`))} --to 'echo no sink here >&2; exit 1'`,
    );
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /no sink here/);
    assert.match(r.stderr, /giving up/);
    identical(src, join(dir, 'live'));
    const stats = JSON.parse(r.stdout.toString()) as { destinations: { state: string }[] };
    assert.deepEqual(
      stats.destinations.map((d) => d.state),
      ['done', 'failed'],
    );
  } finally {
    cleanup();
  }
});

test('compression: zstd and gzip frames arrive intact and send fewer bytes than none', () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    makeSource(src, 2);
    const sent: Record<string, number> = {};
    for (const codec of ['none', 'zstd', 'gzip']) {
      const r = sh(`rill capture --scan ${q(src)} | rill ship --json --compress ${codec} -- ${process.execPath} ${RILL} replay --ack ${q(join(dir, codec))}`);
      assert.equal(r.code, 0, r.stderr);
      identical(src, join(dir, codec));
      sent[codec] = (JSON.parse(r.stdout.toString()) as { destinations: { bytesSent: number }[] }).destinations[0]!.bytesSent;
    }
    // Half the source is random bytes: about 0.8 of none is what compression can reach.
    assert.ok(sent.zstd! < sent.none! * 0.9, JSON.stringify(sent));
    assert.ok(sent.gzip! < sent.none! * 0.9, JSON.stringify(sent));
  } finally {
    cleanup();
  }
});

test('full disks: the sink retries until space is freed; a full spool stops ship with exit 5 naming it', async (t) => {
  if (!requireCapability(t, isRoot, 'root (tmpfs mounts)')) return;
  const { dir, cleanup } = tempDir();
  const mounts: string[] = [];
  const tmpfs = (path: string, size: string): void => {
    mkdirSync(path, { recursive: true });
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', path]);
    mounts.push(path);
  };
  try {
    const src = join(dir, 'src');
    makeSource(src, 3);
    const file = join(dir, 's.rill');
    assert.equal(sh(`rill capture --scan ${q(src)} > ${q(file)}`).code, 0);
    // The sink's disk holds 1 MiB of the 3: ship retries; growing the disk lets it finish.
    const small = join(dir, 'small');
    tmpfs(small, '1m');
    const fd = openSync(file, 'r');
    const ship = background(['ship', '--spool', join(dir, 'spool'), '--', process.execPath, RILL, 'replay', '--ack', join(small, 'dst')], fd);
    closeSync(fd);
    await until(() => /reconnecting in/.test(ship.stderr()), 'a retry after the full disk');
    assert.match(ship.stderr(), /No space left on device|ENOSPC|disk full/i);
    execFileSync('mount', ['-o', 'remount,size=64m', small]);
    assert.equal(await ship.exit, 0, ship.stderr());
    identical(src, join(small, 'dst'));
    // The spool's disk is full: ship stops, names the spool, and says so with exit 5.
    const tiny = join(dir, 'tiny');
    tmpfs(tiny, '256k');
    const r = sh(`rill ship --spool ${q(join(tiny, 'spool'))} -- ${process.execPath} ${RILL} replay --ack ${q(join(dir, 'dst2'))} < ${q(file)}`);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`${tiny}/spool.*(No space|ENOSPC)`));
  } finally {
    for (const m of mounts.reverse()) execFileSync('umount', ['-l', m]);
    cleanup();
  }
});

test('stdin cut inside a frame while a session is sending: ship exits 3 naming the byte, at once (not at --ack-timeout), and the sink keeps only whole events', () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    makeSource(src, 8);
    const whole = join(dir, 'whole.rill');
    assert.equal(sh(`rill capture --scan ${q(src)} > ${q(whole)}`).code, 0);
    const cut = Math.floor(statSync(whole).size * 0.8);
    // The first part arrives, sessions start sending it, then the rest of the input is cut short.
    const t0 = Date.now();
    const r = sh(`(head -c ${Math.floor(cut / 2)} ${q(whole)}; sleep 1; tail -c +${Math.floor(cut / 2) + 1} ${q(whole)} | head -c ${cut - Math.floor(cut / 2)}) | rill ship --ack-timeout 120s -- ${process.execPath} ${RILL} replay --ack ${q(join(dir, 'dst'))}`);
    const took = Date.now() - t0;
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /stdin, byte \d+.*truncated/);
    assert.doesNotMatch(r.stderr, /Unhandled|at .*\.js:\d+/, 'no crash trace');
    assert.ok(took < 100_000, `ship stopped when its input failed, not at the ack timeout (${took} ms)`);
    // What the sink applied is a prefix of the stream: replaying the whole stream completes it.
    const again = sh(`rill replay ${q(join(dir, 'dst'))} < ${q(whole)}`);
    assert.equal(again.code, 0, again.stderr);
    identical(src, join(dir, 'dst'));
  } finally {
    cleanup();
  }
});
