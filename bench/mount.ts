// rill capture --mount (issue #6, section 7): overhead on the master and end-to-end lag.
// (1) fio on the same directory, direct (no mount) against mounted (capture --mount ROOT writing
//     its stream to a file on the same disk, or to /dev/null: the layer and the encoder without
//     the output's cost):
//     sequential 1 MiB writes and random 4 KiB writes (psync, 2 jobs, end_fsync; --quick: 256 MiB and
//     64 MiB, long enough that start-up does not dominate the random run). Targets: >= 70%
//     and >= 40% of direct throughput.
// (2) stream bytes / written bytes, from the stream files of (1). Target <= 1.05.
// (3) end-to-end lag: `rill capture --mount ROOT | rill replay REPLICA`, a writer writing 4 KiB
//     at 200 writes/s; lag = from write() returning to the replica file holding that block
//     (seen through inotify on the replica file). p50/p99; target p99 < 50 ms.
// Run: node --import tsx bench/mount.ts [--quick] [--dir DIR]   (root, /dev/fuse, fio; results on stdout and in bench/out/mount.json)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, rmSync, statSync, watch, writeFileSync, writeSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const base = resolve(args.includes('--dir') ? args[args.indexOf('--dir') + 1]! : join(process.env.TMPDIR ?? '/var/tmp', 'rill-bench-mount'));
const rill = resolve(import.meta.dirname, '../bin/rill');

interface Capture {
  child: ChildProcess;
  err: () => string;
  stop: () => Promise<void>;
}

async function startCapture(root: string, out: string, replica?: string): Promise<Capture> {
  const fd = replica === undefined ? openSync(out, 'w') : undefined;
  const child = spawn(rill, ['capture', '--mount', root], { stdio: ['ignore', fd ?? 'pipe', 'pipe'] });
  if (fd !== undefined) closeSync(fd);
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  let replay: ChildProcess | undefined;
  if (replica !== undefined) replay = spawn(rill, ['replay', replica], { stdio: [child.stdout!, 'ignore', 'inherit'] });
  while (!err.includes('serving ')) {
    if (child.exitCode !== null) throw new Error(`capture did not start: ${err}`);
    await sleep(20);
  }
  return {
    child,
    err: () => err,
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => (child.exitCode !== null ? r(0) : child.once('exit', r)));
      if (replay !== undefined) await new Promise((r) => (replay!.exitCode !== null ? r(0) : replay!.once('exit', r)));
    },
  };
}

/** fio's write bandwidth in MiB/s and bytes written. */
function fio(dir: string, name: string, rw: string, bs: string, size: string): { mibs: number; bytes: number } {
  const r = spawnSync('fio', [`--name=${name}`, `--directory=${dir}`, `--rw=${rw}`, `--bs=${bs}`, `--size=${size}`, '--numjobs=2', '--ioengine=psync', '--end_fsync=1', '--group_reporting', '--output-format=json'], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  const job = (JSON.parse(r.stdout) as { jobs: { write: { bw_bytes: number; io_bytes: number } }[] }).jobs[0]!;
  return { mibs: job.write.bw_bytes / 1048576, bytes: job.write.io_bytes };
}

interface Row { test: string; direct: number; mountedFile: number; mountedNull: number; ratio: number; streamRatio: number }

async function overhead(name: string, rw: string, bs: string, size: string): Promise<Row> {
  const direct: number[] = [];
  const toFile: number[] = [];
  const toNull: number[] = [];
  let streamRatio = 0;
  for (let run = 0; run < (quick ? 1 : 3); run++) {
    for (const mode of ['direct', 'file', 'null'] as const) {
      const root = join(base, 'root');
      rmSync(root, { recursive: true, force: true });
      mkdirSync(root, { recursive: true });
      spawnSync('sync');
      const out = mode === 'null' ? '/dev/null' : join(base, 'stream.rill');
      const cap = mode === 'direct' ? undefined : await startCapture(root, out);
      const r = fio(root, name, rw, bs, size);
      await cap?.stop();
      if (mode === 'direct') direct.push(r.mibs);
      else if (mode === 'file') {
        toFile.push(r.mibs);
        streamRatio = statSync(out).size / r.bytes;
      } else toNull.push(r.mibs);
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  return { test: name, direct: med(direct), mountedFile: med(toFile), mountedNull: med(toNull), ratio: med(toFile) / med(direct), streamRatio };
}

/** Lag from write() returning to the block being in the replica file. */
async function lag(): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const root = join(base, 'lag-root');
  const rep = join(base, 'lag-rep');
  for (const d of [root, rep]) rmSync(d, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const cap = await startCapture(root, '', rep);
  const N = quick ? 300 : 2000;
  const written: number[] = [];
  const arrived: number[] = [];
  const file = join(root, 'log');
  const fd = openSync(file, 'w');
  const block = Buffer.alloc(4096, 1);
  writeSync(fd, block, 0, 4096, 0);
  written[0] = performance.now();
  const repFile = join(rep, 'log');
  while (!existsSync(repFile)) await sleep(1);
  const rfd = openSync(repFile, 'r');
  const seen = (): void => {
    const now = performance.now();
    const blocks = Math.floor(fstatSync(rfd).size / 4096);
    for (let i = 0; i < blocks; i++) if (arrived[i] === undefined && written[i] !== undefined) arrived[i] = now;
  };
  const w = watch(repFile, seen);
  for (let i = 1; i < N; i++) {
    await sleep(5); // about 200 writes/s
    block.writeUInt32LE(i, 0);
    writeSync(fd, block, 0, 4096, i * 4096);
    written[i] = performance.now();
    seen();
  }
  for (let k = 0; k < 400 && arrived.filter((x) => x !== undefined).length < N; k++) {
    await sleep(5);
    seen();
  }
  w.close();
  closeSync(fd);
  closeSync(rfd);
  await cap.stop();
  const lags = written.map((t, i) => (arrived[i] ?? Infinity) - t).slice(1).sort((a, b) => a - b);
  const pct = (p: number) => lags[Math.min(lags.length - 1, Math.floor(p * lags.length))]!;
  return { p50: pct(0.5), p99: pct(0.99), max: lags.at(-1)!, n: lags.length };
}

async function main(): Promise<void> {
  mkdirSync(base, { recursive: true });
  const rows = [await overhead('seq 1 MiB', 'write', '1m', quick ? '256m' : '512m'), await overhead('random 4 KiB', 'randwrite', '4k', quick ? '64m' : '128m')];
  console.log('| fio (2 jobs, psync, end_fsync) | direct MiB/s | mounted, stream to a file | mounted, stream to /dev/null | mounted/direct | stream bytes / written |');
  console.log('|---|---|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.test} | ${r.direct.toFixed(0)} | ${r.mountedFile.toFixed(0)} | ${r.mountedNull.toFixed(0)} | ${(r.ratio * 100).toFixed(0)}% | ${r.streamRatio.toFixed(3)} |`);
  const l = await lag();
  console.log(`\nend-to-end lag (write() returned -> block in the replica), ${l.n} writes of 4 KiB at ~200/s: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`);
  mkdirSync(join(import.meta.dirname, 'out'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'out', 'mount.json'), JSON.stringify({ rows, lag: l, quick }, null, 2));
  rmSync(base, { recursive: true, force: true });
}

await main();
