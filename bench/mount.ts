// rill capture --mount (issue #6, section 7): overhead on the master and end-to-end lag.
// (1) fio on the same directory, direct (no mount) against mounted (capture --mount ROOT writing
//     its stream to a file on the same disk, or to /dev/null: the layer and the encoder without
//     the output's cost):
//     sequential 1 MiB writes and random 4 KiB writes (psync, 2 jobs, end_fsync; --quick: 256 MiB and
//     64 MiB, long enough that start-up does not dominate the random run). Targets: >= 70%
//     and >= 40% of direct throughput. Each both ways: exact (every write() a round trip through
//     the layer) and --writeback (the page cache on the mount); and two ceilings without Node:
//     the layer alone with its records read by dd, and a build recording no write data (what
//     FUSE itself costs on this machine).
// (2) stream bytes / written bytes, from the stream files of (1). Target <= 1.05.
// (3) end-to-end lag: `rill capture --mount ROOT | rill replay REPLICA`, a writer writing 4 KiB
//     at 200 writes/s; lag = from write() returning to the replica file holding that block
//     (seen through inotify on the replica file). p50/p99; target p99 < 50 ms. Exact and --writeback.
//     Each measured on a capture that has run a while (third of three fio passes; the first, just
//     started, reported apart: see Row).
// Run: node --import tsx bench/mount.ts [--quick] [--dir DIR]   (root, /dev/fuse, fio; results on stdout and in bench/out/mount.json)
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, fstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, statSync, watch, writeFileSync, writeSync } from 'node:fs';
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

async function startCapture(root: string, out: string, replica?: string, extra: string[] = []): Promise<Capture> {
  const fd = replica === undefined ? openSync(out, 'w') : undefined;
  const child = spawn(rill, ['capture', '--mount', root, ...extra], { stdio: ['ignore', fd ?? 'pipe', 'pipe'] });
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

/**
 * The native layer alone, without Node: its records read by dd (1 MiB reads) into /dev/null ('layer'), or a build
 * that records no write data at all ('bare': what FUSE itself costs on this machine).
 */
async function startLayer(root: string, bare: boolean): Promise<Capture> {
  const exe = resolve(import.meta.dirname, '../native/fuse/build', bare ? 'rill-fuse-bare' : 'rill-fuse');
  const child = spawn('sh', ['-c', 'exec "$0" "$1" 3>&1 >/dev/null | dd of=/dev/null bs=1M status=none', exe, root], { stdio: ['pipe', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const deadline = Date.now() + 10000;
  while (!readFileSync('/proc/self/mountinfo', 'utf8').split('\n').some((l) => l.split(' ')[4] === root && l.includes(' - fuse.rill'))) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`the layer did not mount: ${err}`);
    await sleep(20);
  }
  return {
    child,
    err: () => err,
    async stop() {
      child.stdin!.end();
      await new Promise((r) => (child.exitCode !== null ? r(0) : child.once('exit', r)));
    },
  };
}

/**
 * sync, drop the clean page cache, then wait (at most 60 s) until the kernel has no more than 64 MiB
 * dirty or under writeback: fio's end_fsync includes writing its data to the disk, and this VM's
 * disk sometimes flushes at a third of its usual speed for a while; a pass starting behind
 * another's writeback measured that. Why the drop: on this VM, page cache in memory not used
 * lately costs the host a fault per page (writing 6 GiB into new files: the first GiB 0.15 s of
 * system time, the sixth 2.1 s; after a drop 0.1-0.4 s each), so without it a mode was charged for
 * how much memory the passes before it had touched (a capture's stream file touches a third copy).
 */
let warnedDrop = false;
async function quiesce(): Promise<void> {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3');
  } catch (e) {
    if (!warnedDrop) console.error(`bench: cannot drop the page cache (${(e as Error).message}): figures depend on the order of the passes`);
    warnedDrop = true;
  }
  const deadline = Date.now() + 60_000;
  for (;;) {
    const info = readFileSync('/proc/meminfo', 'utf8');
    const kib = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
    if (kib('Dirty') + kib('Writeback') < 65536 || Date.now() > deadline) return;
    await sleep(200);
  }
}

/**
 * fio's write bandwidth in MiB/s and bytes written (its 2 jobs together). With `copyTo`, a third job
 * writes as many bytes again, sequentially in 1 MiB writes and without fsync, into that directory
 * meanwhile: what a stream file on the same disk costs the application without FUSE ('copy').
 */
function fio(dir: string, name: string, rw: string, bs: string, size: string, copyTo?: string): { mibs: number; bytes: number } {
  const app = [`--name=${name}`, `--directory=${dir}`, `--rw=${rw}`, `--bs=${bs}`, `--size=${size}`, '--numjobs=2', '--ioengine=psync', '--end_fsync=1'];
  const copy = copyTo === undefined ? [] : ['--name=stream', `--directory=${copyTo}`, '--rw=write', '--bs=1m', `--size=${2 * Number.parseInt(size, 10)}${size.replace(/^\d+/, '')}`, '--numjobs=1', '--ioengine=psync'];
  const r = spawnSync('fio', ['--output-format=json', ...app, ...copy], { encoding: 'utf8', maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`fio failed: ${r.stderr}`);
  const jobs = (JSON.parse(r.stdout) as { jobs: { jobname: string; write: { bw_bytes: number; io_bytes: number } }[] }).jobs.filter((j) => j.jobname === name);
  return { mibs: jobs.reduce((a, j) => a + j.write.bw_bytes, 0) / 1048576, bytes: jobs.reduce((a, j) => a + j.write.io_bytes, 0) };
}

/**
 * How fio's directory is served: directly; directly while as many bytes are written again beside it
 * ('copy': the ceiling for a stream file on the same disk); rill capture --mount (stream to a file or
 * /dev/null), exact or --writeback; exact with --journal on the same disk (an fsync returns once the
 * journal holds it durably: fio's end_fsync waits for the journal too); the layer without Node (and
 * so without the payload ring: all its records through the pipe); FUSE without write records.
 */
const MODES = ['direct', 'copy', 'file', 'null', 'wb-file', 'wb-null', 'journal', 'layer', 'bare'] as const;
type Mode = (typeof MODES)[number];

/**
 * Per mode and run, fio goes three times on the same mount: the first measured as 'cold' (a capture
 * just started: V8 still compiles its hot path, which on this 2-core VM takes CPU from the writers:
 * Node's CPU per GiB of sequential 1 MiB writes fell from ~0.5 s to ~0.2 s over the first 3 GiB),
 * the second unmeasured, the third measured as the figure (a capture that has been running: the
 * service's steady state). Files are removed between them and the machine quiesced; direct gets the same sequence.
 */
interface Row { test: string; mibs: Record<Mode, number>; cold: Record<Mode, number>; all: Record<Mode, number[]>; allCold: Record<Mode, number[]>; streamRatio: number; wbStreamRatio: number }

async function serve(mode: Mode, root: string, out: string): Promise<Capture | undefined> {
  if (mode === 'direct' || mode === 'copy') return undefined;
  if (mode === 'layer' || mode === 'bare') return startLayer(root, mode === 'bare');
  if (mode === 'journal') return startCapture(root, '/dev/null', undefined, ['--journal', join(base, 'journal')]);
  return startCapture(root, mode.endsWith('null') ? '/dev/null' : out, undefined, mode.startsWith('wb') ? ['--writeback'] : []);
}

async function overhead(name: string, rw: string, bs: string, size: string): Promise<Row> {
  const runs = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  const colds = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>;
  let streamRatio = 0;
  let wbStreamRatio = 0;
  for (let run = 0; run < (quick ? 1 : 3); run++) {
    for (const mode of MODES) {
      const root = join(base, 'root');
      rmSync(root, { recursive: true, force: true });
      mkdirSync(root, { recursive: true });
      await quiesce();
      const out = join(base, 'stream.rill');
      const copyDir = join(base, 'copy');
      rmSync(copyDir, { recursive: true, force: true });
      rmSync(join(base, 'journal'), { recursive: true, force: true });
      if (mode === 'copy') mkdirSync(copyDir);
      const cap = await serve(mode, root, out);
      let r = { mibs: 0, bytes: 0 };
      let written = 0;
      for (let pass = 0; pass < 3; pass++) {
        if (pass > 0) {
          for (const d of mode === 'copy' ? [root, copyDir] : [root]) for (const f of readdirSync(d)) rmSync(join(d, f));
          await quiesce();
        }
        r = fio(root, name, rw, bs, size, mode === 'copy' ? copyDir : undefined);
        written += r.bytes;
        if (pass === 0) colds[mode].push(r.mibs);
      }
      await cap?.stop();
      runs[mode].push(r.mibs);
      if (mode === 'file') streamRatio = statSync(out).size / written;
      if (mode === 'wb-file') wbStreamRatio = statSync(out).size / written;
    }
  }
  const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const meds = (xs: Record<Mode, number[]>) => Object.fromEntries(MODES.map((m) => [m, med(xs[m])])) as Record<Mode, number>;
  return { test: name, mibs: meds(runs), cold: meds(colds), all: runs, allCold: colds, streamRatio, wbStreamRatio };
}

/** Lag from write() returning to the block being in the replica file. */
async function lag(extra: string[] = []): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const root = join(base, 'lag-root');
  const rep = join(base, 'lag-rep');
  for (const d of [root, rep]) rmSync(d, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const cap = await startCapture(root, '', rep, extra);
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
  const made = spawnSync('make', ['-s', '-C', resolve(import.meta.dirname, '../native/fuse'), 'build/rill-fuse-bare'], { stdio: 'inherit' });
  if (made.status !== 0) throw new Error('cannot build native/fuse/build/rill-fuse-bare (libfuse3-dev)');
  const rows = [await overhead('seq 1 MiB', 'write', '1m', quick ? '256m' : '512m'), await overhead('random 4 KiB', 'randwrite', '4k', quick ? '64m' : '128m')];
  const pct = (r: Row, m: Mode) => `${r.mibs[m].toFixed(0)} (${((r.mibs[m] / r.mibs.direct) * 100).toFixed(0)}%)`;
  console.log('MiB/s (% of direct); fio 2 jobs, psync, end_fsync');
  console.log('| fio | direct | direct + as many bytes again beside it | mounted, stream to a file | to /dev/null | --writeback, to a file | --writeback, to /dev/null | exact, --journal | layer alone, records to dd | FUSE, no write records | stream / written | --writeback: stream / written |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.test} | ${r.mibs.direct.toFixed(0)} | ${pct(r, 'copy')} | ${pct(r, 'file')} | ${pct(r, 'null')} | ${pct(r, 'wb-file')} | ${pct(r, 'wb-null')} | ${pct(r, 'journal')} | ${pct(r, 'layer')} | ${pct(r, 'bare')} | ${r.streamRatio.toFixed(3)} | ${r.wbStreamRatio.toFixed(3)} |`);
  }
  console.log('\njust started (the first fio on a fresh capture), MiB/s (% of direct\'s first)');
  console.log('| fio | direct | mounted, stream to a file | to /dev/null | --writeback, to a file | --writeback, to /dev/null |');
  console.log('|---|---|---|---|---|---|');
  const cold = (r: Row, m: Mode) => `${r.cold[m].toFixed(0)} (${((r.cold[m] / r.cold.direct) * 100).toFixed(0)}%)`;
  for (const r of rows) console.log(`| ${r.test} | ${r.cold.direct.toFixed(0)} | ${cold(r, 'file')} | ${cold(r, 'null')} | ${cold(r, 'wb-file')} | ${cold(r, 'wb-null')} |`);
  console.log('\nevery run, MiB/s (running a while; just started in brackets)');
  for (const r of rows) for (const m of MODES) console.log(`${r.test} ${m}: ${r.all[m].map((v, i) => `${v.toFixed(0)} (${r.allCold[m][i]!.toFixed(0)})`).join(', ')}`);
  const lags = { exact: await lag(), writeback: await lag(['--writeback']) };
  for (const [mode, l] of Object.entries(lags)) {
    console.log(`\nend-to-end lag (${mode}; write() returned -> block in the replica), ${l.n} writes of 4 KiB at ~200/s: p50 ${l.p50.toFixed(1)} ms, p99 ${l.p99.toFixed(1)} ms, max ${l.max.toFixed(1)} ms`);
  }
  mkdirSync(join(import.meta.dirname, 'out'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'out', 'mount.json'), JSON.stringify({ rows, lags, quick }, null, 2));
  rmSync(base, { recursive: true, force: true });
}

await main();
