// The payload ring through real mounts (rillfs.h "Payload ring", src/capture/mount/ring.ts): with a
// small ring (RILL_RING_BYTES=256K: writes of 32..128 KiB go through it, it wraps and fills all the
// time) concurrent writers of mixed sizes replicate exactly, through stdout and a journal; without a
// ring too. A stopped capture holds writers back (the ring is the bound), and a capture killed while
// writers wait for room must not leave the layer, the mount or the writers hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RILL } from '../helpers/cli.js';
import { fuseMountsAt, mountDirs, must, requireFuse, startCapture, stopAndVerify, until, verify, type Running } from './harness.js';

const K = 1024;
const RING = 256 * K;
const SMALL_RING = { RILL_RING_BYTES: String(RING) };

/**
 * A writer: files of writes cycling through 4 KiB, 40 KiB, 100 KiB, 128 KiB and 1 MiB (each
 * write() one FUSE write: 40..128 KiB go through a 256 KiB ring, 1 MiB inline, 4 KiB inline),
 * then overwrites at odd offsets, a truncate and an fsync now and then.
 */
const WRITER = `
const fs = require('fs'), crypto = require('crypto'), path = require('path');
const [dir, id, files] = [process.argv[1], Number(process.argv[2]), Number(process.argv[3])];
const sizes = [4096, 40960, 102400, 131072, 1048576];
for (let f = 0; f < files; f++) {
  const p = path.join(dir, 'w' + id + '-' + f);
  const fd = fs.openSync(p, 'w');
  let at = 0;
  for (let i = 0; i < 7; i++) {
    const b = crypto.randomBytes(sizes[(i + f + id) % sizes.length]);
    fs.writeSync(fd, b, 0, b.length, at);
    at += b.length;
  }
  for (let i = 0; i < 3; i++) {
    const b = crypto.randomBytes(sizes[(i + f) % 4]);
    fs.writeSync(fd, b, 0, b.length, (i * 77777 + f * 4099) % at);
  }
  if (f % 3 === 1) fs.ftruncateSync(fd, at - 50000);
  if (f % 2 === 0) fs.fsyncSync(fd);
  fs.closeSync(fd);
}
`;

const exited = (p: ChildProcess): Promise<number | null> =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (code) => r(code)));

/** Resolves with p's exit code, or with 'timeout' after ms. */
async function exitWithin(p: ChildProcess, ms: number): Promise<number | null | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), ms)));
  try {
    return await Promise.race([exited(p), t]);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs `writers` WRITER processes side by side in dir; fails (not hangs) if they do not finish in time. */
async function writeMix(dir: string, writers: number, files: number, children: ChildProcess[], ms = 40_000): Promise<void> {
  const ps = Array.from({ length: writers }, (_, id) => {
    const p = spawn(process.execPath, ['-e', WRITER, dir, String(id), String(files)], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr!.setEncoding('utf8');
    p.stderr!.on('data', (s: string) => (err += s));
    children.push(p);
    return { p, err: () => err };
  });
  for (const { p, err } of ps) {
    const code = await exitWithin(p, ms);
    assert.notEqual(code, 'timeout', `a writer did not finish within ${ms} ms: writes through the mount hang (the ring is never freed?)`);
    assert.equal(code, 0, `writer failed: ${err()}`);
  }
}

/** The FUSE layer's pid, as the capture announced it. */
function layerPid(run: Running): number {
  const m = /FUSE layer pid (\d+)/.exec(run.stderr());
  assert.ok(m, run.stderr());
  return Number(m[1]);
}

const alive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) [ZX] /.test(stat);
  } catch {
    return false;
  }
};

/** The layer's view of the ring: consumed (u64 at 0) and its waiting flag (u32 at 8) read from its mapping of memfd:rill-ring; undefined when it maps none. */
function ringInLayer(pid: number): { consumed: bigint; waiting: number; bytes: number } | undefined {
  const line = readFileSync(`/proc/${pid}/maps`, 'utf8').split('\n').find((l) => l.includes('memfd:rill-ring'));
  if (line === undefined) return undefined;
  const [from, to] = line.split(' ')[0]!.split('-').map((h) => BigInt(`0x${h}`)) as [bigint, bigint];
  const fd = openSync(`/proc/${pid}/mem`, 'r');
  try {
    const head = Buffer.alloc(16);
    assert.equal(readSync(fd, head, 0, 16, from), 16);
    return { consumed: head.readBigUInt64LE(0), waiting: head.readUInt32LE(8), bytes: Number(to - from) };
  } finally {
    closeSync(fd);
  }
}

/** Lengths of the write events of a stream file or journal directory. */
function writeLengths(...files: string[]): number[] {
  const r = spawnSync(RILL, ['dump', '--events', ...files], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; data?: { length: number } })
    .filter((e) => e.type === 'write')
    .map((e) => e.data!.length);
}

/** Everything a test started, ended: writers, the capture and replay, the layer (by pid), the mount. */
function endAll(run: Running | undefined, pid: number | undefined, children: ChildProcess[]): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (run !== undefined) {
    if (run.capture.signalCode === null && run.capture.exitCode === null) run.capture.kill('SIGCONT');
    run.cleanup();
  }
  if (pid !== undefined && alive(pid)) process.kill(pid, 'SIGKILL');
}

interface OnMount { dir: string; root: string; rep: string; run: Running; pid: number; children: ChildProcess[] }

/** A fresh ROOT, a capture start()ed over it, then body; whatever happens, everything started is ended and the directory removed. */
async function onMount(start: (d: { dir: string; root: string; rep: string }) => Promise<Running>, body: (m: OnMount) => Promise<void>): Promise<void> {
  const { dir, root, rep, cleanup } = mountDirs('rill-mount-ring-');
  const children: ChildProcess[] = [];
  let run: Running | undefined;
  let pid: number | undefined;
  try {
    run = await start({ dir, root, rep });
    pid = layerPid(run);
    await body({ dir, root, rep, run, pid, children });
  } finally {
    endAll(run, pid, children);
    cleanup();
  }
}

test('a 256 KiB ring: concurrent writers of 4 KiB..1 MiB replicate exactly through capture | replay; the layer maps the ring and it went round', async (t) => {
  if (!requireFuse(t)) return;
  await onMount(
    ({ root, rep }) => startCapture(root, rep, [], SMALL_RING),
    async ({ root, rep, run, pid, children }) => {
      const before = ringInLayer(pid);
      assert.ok(before !== undefined, 'the layer maps memfd:rill-ring');
      assert.equal(before.bytes, 4096 + RING, 'header and RILL_RING_BYTES of data');
      await writeMix(root, 4, 6, children);
      // the output wrote everything: consumed is past all of it, many times the ring's size
      let after = ringInLayer(pid)!;
      for (let i = 0; i < 100 && after.consumed < BigInt(8 * RING); i++) {
        await sleep(50);
        after = ringInLayer(pid)!;
      }
      t.diagnostic(`ring consumed: ${after.consumed} bytes (${Number(after.consumed) / RING} times round)`);
      assert.ok(after.consumed >= BigInt(8 * RING), `the ring went round at least 8 times (consumed ${after.consumed})`);
      await stopAndVerify(run, root, rep);
    },
  );
});

test('a 256 KiB ring with --journal: the journal replays to an identical tree and holds the ring-sized writes', async (t) => {
  if (!requireFuse(t)) return;
  await onMount(
    ({ dir, root }) => startCapture(root, undefined, ['--journal', join(dir, 'journal')], SMALL_RING),
    async ({ dir, root, rep, run, pid, children }) => {
      const journal = join(dir, 'journal');
      assert.ok(ringInLayer(pid) !== undefined, 'the layer maps memfd:rill-ring');
      await writeMix(root, 4, 5, children);
      const r = await run.stop();
      assert.equal(r.capture, 143, r.stderr);
      const segments = readdirSync(journal).filter((n) => n.endsWith('.rill')).sort().map((n) => join(journal, n));
      assert.ok(segments.length > 0);
      const lengths = writeLengths(journal);
      const inRing = lengths.filter((n) => n >= 32 * K && n <= RING / 2).length;
      assert.ok(inRing >= 50, `writes of 32..128 KiB (through the ring): ${inRing}`);
      assert.ok(lengths.includes(4096) && lengths.includes(256 * K), 'and inline ones: 4 KiB, and 1 MiB cut into 256 KiB events');
      must(RILL, ['replay', rep, ...segments]);
      const v = verify(root, rep);
      assert.equal(v.code, 0, v.out);
    },
  );
});

test('a 256 KiB ring into a stream file, and RILL_RING_BYTES=0 (no ring, all inline): both replay to an identical tree', async (t) => {
  if (!requireFuse(t)) return;
  for (const ring of [String(RING), '0']) {
    await onMount(
      ({ dir, root }) => startCapture(root, join(dir, 'out.rill'), [], { RILL_RING_BYTES: ring }),
      async ({ dir, root, rep, run, pid, children }) => {
        const file = join(dir, 'out.rill');
        assert.equal(ringInLayer(pid) !== undefined, ring !== '0', `RILL_RING_BYTES=${ring}: the layer maps a ring or none`);
        await writeMix(root, 3, 4, children);
        const r = await run.stop();
        assert.equal(r.capture, 143, r.stderr);
        const lengths = writeLengths(file);
        assert.ok(lengths.filter((n) => n >= 32 * K && n <= RING / 2).length >= 30, `RILL_RING_BYTES=${ring}: writes of 32..128 KiB`);
        must(RILL, ['replay', rep, file]);
        const v = verify(root, rep);
        assert.equal(v.code, 0, `RILL_RING_BYTES=${ring}: ${v.out}`);
      },
    );
  }
});

test('a 256 KiB ring with --chunk-size 16K (each ring payload cut into small events) and with --writeback: replicas identical, no writer left waiting', async (t) => {
  if (!requireFuse(t)) return;
  for (const args of [['--chunk-size', '16K'], ['--writeback']]) {
    try {
      await onMount(
        ({ root, rep }) => startCapture(root, rep, args, SMALL_RING),
        async ({ root, rep, run, children }) => {
          await writeMix(root, 3, 4, children, 20_000);
          await stopAndVerify(run, root, rep);
        },
      );
    } catch (err) {
      throw new Error(`${args.join(' ')}: ${(err as Error).message}`, { cause: err });
    }
  }
});

test('writes to an --exclude\'d path go through the ring too: their room is freed, the writer is not left waiting', async (t) => {
  if (!requireFuse(t)) return;
  await onMount(
    ({ root, rep }) => startCapture(root, rep, ['--exclude', 'skip'], SMALL_RING),
    async ({ root, rep, run, children }) => {
      // 1 MiB in 64 KiB writes, none of them recorded: four times the ring
      const w = blockWriter(join(root, 'skip'), 16, children);
      const code = await exitWithin(w.p, 10_000);
      assert.equal(code, 0, `the writer of the excluded file finished (${code}; ${w.count()} of 16 writes done): its ring room must be freed though no event carries it`);
      const kept = blockWriter(join(root, 'keep'), 16, children);
      assert.equal(await exitWithin(kept.p, 10_000), 0);
      const r = await run.stop();
      assert.equal(r.capture, 143, r.stderr);
      assert.equal(r.replay, 0, r.replayErr);
      assert.ok(readFileSync(join(rep, 'keep')).equals(readFileSync(join(root, 'keep'))));
      assert.equal(existsSync(join(rep, 'skip')), false);
    },
  );
});

/** Writes 64 KiB blocks to path, printing the count after each; 'error CODE' and exit when a write fails. */
const BLOCKS = `
const fs = require('fs');
const [p, max] = [process.argv[1], Number(process.argv[2])];
const fd = fs.openSync(p, 'w');
const b = require('crypto').randomBytes(65536);
for (let i = 0; i < max; i++) {
  b.writeUInt32LE(i, 0);
  try { fs.writeSync(fd, b, 0, b.length, i * 65536); } catch (e) { process.stdout.write('error ' + e.code + '\\n'); process.exit(0); }
  process.stdout.write('n ' + (i + 1) + '\\n');
}
`;

/** A BLOCKS writer and its progress. */
function blockWriter(path: string, max: number, children: ChildProcess[]): { p: ChildProcess; count: () => number; out: () => string } {
  const p = spawn(process.execPath, ['-e', BLOCKS, path, String(max)], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(p);
  let out = '';
  let n = 0;
  p.stdout!.setEncoding('utf8');
  p.stdout!.on('data', (s: string) => {
    out += s;
    const m = /n (\d+)\n$/.exec(out.slice(-32));
    if (m) n = Number(m[1]);
    if (out.length > 1 << 20) out = out.slice(-4096);
  });
  return { p, count: () => n, out: () => out };
}

test('a stopped capture holds a 64 KiB writer back within the ring (SIGSTOP), and it goes on after SIGCONT; the replica verifies', async (t) => {
  if (!requireFuse(t)) return;
  await onMount(
    ({ root, rep }) => startCapture(root, rep, [], SMALL_RING),
    async ({ root, rep, run, pid, children }) => {
      const w = blockWriter(join(root, 'blocks'), 240, children);
      await until(() => w.count() >= 20, 'the writer to get going', 20_000);
      run.capture.kill('SIGSTOP');
      const at = w.count();
      await sleep(700);
      const c1 = w.count();
      await sleep(1000);
      const c2 = w.count();
      t.diagnostic(`writes: ${at} at SIGSTOP, ${c1} after 0.7 s, ${c2} after 1.7 s`);
      assert.equal(c2, c1, 'the writer is held while the capture is stopped');
      assert.ok(c1 - at <= 8, `no more than the ring's room (4 blocks of 64 KiB, and those in flight) went on after the stop: ${c1 - at}`);
      assert.equal(w.p.exitCode, null);
      assert.equal(ringInLayer(pid)!.waiting, 1, 'the layer waits for room in the ring (its flag in the header)');
      run.capture.kill('SIGCONT');
      const code = await exitWithin(w.p, 30_000);
      assert.equal(code, 0, `the writer finished after SIGCONT (${code}): ${w.out().slice(-200)}`);
      assert.equal(w.count(), 240);
      await stopAndVerify(run, root, rep);
    },
  );
});

test('kill -9 of the capture while a writer waits for room in the ring: the layer exits, the mount goes, the writer gets an error (no hang)', async (t) => {
  if (!requireFuse(t)) return;
  await onMount(
    ({ root, rep }) => startCapture(root, rep, [], SMALL_RING),
    async ({ root, run, pid, children }) => {
      const w = blockWriter(join(root, 'blocks'), 1 << 20, children);
      await until(() => w.count() >= 20, 'the writer to get going', 20_000);
      run.capture.kill('SIGSTOP');
      // the ring fills: the writer waits for room (the layer's futex wait)
      let last = -1;
      await until(() => {
        const c = w.count();
        const same = c === last;
        last = c;
        return same;
      }, 'the writer to stall', 10_000);
      await sleep(300);
      assert.equal(w.count(), last, 'the writer is held');
      run.capture.kill('SIGKILL');
      const deadline = Date.now() + 5000;
      while (Date.now() < deadline && (alive(pid) || fuseMountsAt(root).length > 0 || w.p.exitCode === null)) await sleep(50);
      const layerAlive = alive(pid);
      const mounted = fuseMountsAt(root).length > 0;
      const wchan = layerAlive ? readFileSync(`/proc/${pid}/wchan`, 'utf8') : '';
      assert.ok(!layerAlive, `the layer (pid ${pid}) exited within 5 s of its capture's death (it is still there, waiting in ${wchan || '?'})`);
      assert.ok(!mounted, 'the mount is gone');
      assert.notEqual(w.p.exitCode, null, 'the writer is not left hanging');
      assert.match(w.out(), /error (ENOTCONN|EIO|ECONNABORTED|ENODEV)\n$/, `the writer's next write failed: ${w.out().slice(-100)}`);
    },
  );
});
