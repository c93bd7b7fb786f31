// rill sort-merge (issue #5, section 6), on generated inputs, each run as a user runs it (bin/rill under
// /usr/bin/time, --memory 256M, --tmpdir beside the input):
// (1) throughput: a stream of 8 KiB page writes spread over 64 files of 64 MiB (4 GiB of distinct
//     bytes, so inputs beyond 128 MiB of data spill runs and merge them), one utimes per 16 writes;
//     events/s and MB/s of input, peak RSS, output ÷ input. Sizes: 100 MB under --quick; 100 MB,
//     1 GiB and 10 GiB in the full run (--sizes 100M,1G lists others).
// (2) a hot spot: a database-like file of 8 KiB pages (90% of rewrites to 10% of the pages) and its
//     write-ahead log (appended, truncated at each checkpoint), as 10 increments of one source:
//     the reduction (bytes and events of output ÷ input), and the wall time of sort-merge + replay
//     against replaying the raw increments (both replicas then checked with rill verify).
// Run alone: node --import tsx bench/merge.ts [--quick] [--sizes 100M,1G,10G] [--dir DIR]
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, rmSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomBytes } from 'node:crypto';
import { StreamEncoder, type HeaderInit } from '../src/stream/encode.js';
import type { Event } from '../src/stream/events.js';

export interface MergeThroughput {
  /** Input stream bytes. */
  inputBytes: number;
  events: number;
  seconds: number;
  rssKiB: number;
  outputBytes: number;
}

export interface MergeHotspot {
  inputBytes: number;
  inputEvents: number;
  outputBytes: number;
  outputEvents: number;
  increments: number;
  /** sort-merge alone, under /usr/bin/time. */
  mergeSeconds: number;
  rssKiB: number;
  /** rill sort-merge INC... | rill replay DST */
  mergeReplaySeconds: number;
  /** rill replay DST INC... */
  replaySeconds: number;
}

export interface MergeBenchResult {
  throughput: MergeThroughput[];
  hotspot: MergeHotspot | undefined;
}

export interface MergeBenchOptions {
  rill: string;
  base: string;
  quick: boolean;
  /** Input sizes of part (1), bytes (default: 100 MB quick, else 100 MB, 1 GiB, 10 GiB). */
  sizes?: number[];
  log?: (line: string) => void;
}

const MEMORY = '256M';
const PAGE = 8192;
const SOURCE = '00000000-0000-4000-8000-00000000be4c';
const T0 = 1_700_000_000_000_000_000n;

function sh(cmd: string): { seconds: number; stdout: string; stderr: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`benchmark command failed (${r.status}): ${cmd}\n${r.stderr}`);
  return { seconds, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

/** A command timed by /usr/bin/time: wall seconds and peak RSS (KiB). */
function timed(cmd: string, work: string): { seconds: number; rssKiB: number } {
  const file = join(work, 'time.out');
  sh(`/usr/bin/time -o ${file} -f '%e %M' ${cmd}`);
  const [e, m] = sh(`cat ${file}`).stdout.trim().split(/\s+/).map(Number);
  return { seconds: e!, rssKiB: m! };
}

/** Writes a stream of the events `gen` yields to file; returns its event count. */
async function writeStream(file: string, header: HeaderInit, gen: Iterable<Event>): Promise<number> {
  const enc = new StreamEncoder(header);
  const out = createWriteStream(file);
  enc.pipe(out);
  let n = 0;
  let batch: Event[] = [];
  for (const e of gen) {
    batch.push(e);
    n++;
    if (batch.length === 256) {
      if (!enc.write(batch)) await once(enc, 'drain');
      batch = [];
    }
  }
  if (batch.length > 0) enc.write(batch);
  enc.end();
  await once(out, 'close');
  return n;
}

const header = (base?: number): HeaderInit => ({ source: SOURCE, node: 'bench', kind: 'tree', root: { path: '/bench' }, created: T0, ...(base === undefined ? {} : { base }) });

/** xorshift: the same inputs every run. */
function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

/** Page contents: views of one random buffer (incompressible, distinct enough). */
const POOL = randomBytes(1 << 20);
const page = (i: number): Buffer => POOL.subarray((i * 4099) % (POOL.length - PAGE), ((i * 4099) % (POOL.length - PAGE)) + PAGE);

/** Writes part (1)'s input of `bytes` to file; returns its event count; why: also for profiling by hand. */
export function writeSpread(file: string, bytes: number): Promise<number> {
  return writeStream(file, header(), spread(bytes));
}

/** Part (1): 8 KiB writes over 64 files of 64 MiB, a utimes every 16 writes, until `bytes` of data. */
function* spread(bytes: number): Generator<Event> {
  const r = rng(1);
  let seq = 1;
  const files = 64;
  for (let f = 0; f < files; f++) yield { type: 'create', path: `f${f}`, mode: 0o644, seq: seq++ };
  for (let n = 0; n * PAGE < bytes; n++) {
    const f = Math.floor(r() * files);
    yield { type: 'write', path: `f${f}`, offset: Math.floor(r() * 8192) * PAGE, data: page(n), seq: seq++ };
    if (n % 16 === 15) yield { type: 'utimes', path: `f${f}`, atime: T0, mtime: T0 + BigInt(n), seq: seq++ };
  }
}

/** Part (2): one increment of the hot-spot workload. */
function* hotspot(inc: number, first: number, writes: number, pages: number): Generator<Event> {
  const r = rng(100 + inc);
  let seq = first;
  if (inc === 0) {
    yield { type: 'mkdir', path: 'db', mode: 0o700, seq: seq++ };
    yield { type: 'create', path: 'db/data', mode: 0o600, seq: seq++ };
    yield { type: 'create', path: 'db/wal', mode: 0o600, seq: seq++ };
    for (let p = 0; p < pages; p++) yield { type: 'write', path: 'db/data', offset: p * PAGE, data: page(p), seq: seq++ };
  }
  let wal = 0;
  for (let n = 0; n < writes; n++) {
    const hot = r() < 0.9;
    const p = hot ? Math.floor(r() * (pages / 10)) : Math.floor(r() * pages);
    // The log record first, then the page; a checkpoint every 512 records empties the log.
    yield { type: 'write', path: 'db/wal', offset: wal, data: page(n + 7), seq: seq++ };
    wal += PAGE;
    yield { type: 'write', path: 'db/data', offset: p * PAGE, data: page(n * 31 + inc), seq: seq++ };
    if (n % 512 === 511) {
      yield { type: 'truncate', path: 'db/wal', size: 0, seq: seq++ };
      yield { type: 'utimes', path: 'db/data', atime: T0, mtime: T0 + BigInt(n), seq: seq++ };
      wal = 0;
    }
  }
  yield { type: 'utimes', path: 'db/wal', atime: T0, mtime: T0 + BigInt(inc), seq: seq++ };
  yield { type: 'utimes', path: 'db/data', atime: T0, mtime: T0 + BigInt(inc), seq: seq++ };
  yield { type: 'utimes', path: 'db', atime: T0, mtime: T0, seq: seq++ };
  yield { type: 'utimes', path: '', atime: T0, mtime: T0, seq: seq++ };
}

/** Writes the hot-spot workload's 10 increments into dir; why: also for profiling by hand. */
export async function writeHotspot(dir: string, quick: boolean): Promise<{ files: string[]; events: number }> {
  const pages = quick ? 4096 : 16384; // 32 MiB or 128 MiB of database
  const writes = quick ? 1200 : 6000; // page rewrites per increment
  const files: string[] = [];
  let seq = 1;
  for (let i = 0; i < 10; i++) {
    const file = join(dir, `inc-${String(i).padStart(2, '0')}.rill`);
    seq += await writeStream(file, header(i === 0 ? undefined : seq - 1), hotspot(i, seq, writes, pages));
    files.push(file);
  }
  return { files, events: seq - 1 };
}

/** Counts events of a stream (rill dump --events | wc -l). */
function countEvents(rill: string, file: string): number {
  return Number(sh(`${rill} dump --events ${file} | wc -l`).stdout.trim());
}

export async function mergeBench(o: MergeBenchOptions): Promise<MergeBenchResult> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const work = join(o.base, 'merge');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const sizes = o.sizes ?? (o.quick ? [100e6] : [100e6, 2 ** 30, 10 * 2 ** 30]);
  const throughput: MergeThroughput[] = [];
  try {
    for (const size of sizes) {
      const input = join(work, 'spread.rill');
      const output = join(work, 'out.rill');
      log(`merge: generating ${Math.round(size / 1e6)} MB of page writes`);
      const events = await writeSpread(input, size);
      log(`merge: rill sort-merge --memory ${MEMORY} (${events} events)`);
      const t = timed(`${o.rill} sort-merge --memory ${MEMORY} --tmpdir ${work} -o ${output} ${input}`, work);
      throughput.push({ inputBytes: statSync(input).size, events, seconds: t.seconds, rssKiB: t.rssKiB, outputBytes: statSync(output).size });
      rmSync(input);
      rmSync(output);
    }
    // (2) the hot spot: 10 increments of one source.
    const { files: incs, events: inputEvents } = await writeHotspot(work, o.quick);
    const merged = join(work, 'merged.rill');
    log('merge: hot spot, sort-merge');
    const m = timed(`${o.rill} sort-merge --memory ${MEMORY} --tmpdir ${work} -o ${merged} ${incs.join(' ')}`, work);
    const a = join(work, 'replica-raw');
    const b = join(work, 'replica-merged');
    log('merge: hot spot, replaying the raw increments, then sort-merge | replay');
    sh('sync');
    const raw = sh(`${o.rill} replay ${a} ${incs.join(' ')}`).seconds;
    sh('sync');
    const both = sh(`${o.rill} sort-merge --memory ${MEMORY} --tmpdir ${work} ${incs.join(' ')} | ${o.rill} replay ${b}`).seconds;
    sh(`${o.rill} verify --quiet ${a} ${b}`); // the times mean nothing unless the replicas agree
    const hotspotResult: MergeHotspot = {
      inputBytes: incs.reduce((n, f) => n + statSync(f).size, 0),
      inputEvents,
      outputBytes: statSync(merged).size,
      outputEvents: countEvents(o.rill, merged),
      increments: incs.length,
      mergeSeconds: m.seconds,
      rssKiB: m.rssKiB,
      mergeReplaySeconds: both,
      replaySeconds: raw,
    };
    return { throughput, hotspot: hotspotResult };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Markdown tables of the results. */
export function mergeTables(r: MergeBenchResult): string {
  const f = (x: number): string => Math.round(x).toLocaleString('en-US');
  const mb = (x: number): string => (x / 1e6).toFixed(0);
  const lines = [
    `| sort-merge --memory ${MEMORY}, input | events | seconds | events/s | MB/s | peak RSS MB | output ÷ input |`,
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  for (const t of r.throughput) {
    lines.push(`| ${mb(t.inputBytes)} MB of 8 KiB page writes | ${f(t.events)} | ${t.seconds.toFixed(1)} | ${f(t.events / t.seconds)} | ${(t.inputBytes / t.seconds / 1e6).toFixed(1)} | ${f(t.rssKiB / 1024)} | ${(t.outputBytes / t.inputBytes).toFixed(3)} |`);
  }
  const h = r.hotspot;
  if (h !== undefined) {
    lines.push('', `| hot spot, ${h.increments} increments | input | output | output ÷ input |`, '|---|---:|---:|---:|');
    lines.push(`| bytes | ${mb(h.inputBytes)} MB | ${mb(h.outputBytes)} MB | ${(h.outputBytes / h.inputBytes).toFixed(3)} |`);
    lines.push(`| events | ${f(h.inputEvents)} | ${f(h.outputEvents)} | ${(h.outputEvents / h.inputEvents).toFixed(3)} |`);
    lines.push('', '| hot spot | seconds | × replay of the raw increments |', '|---|---:|---:|');
    lines.push(`| rill replay DST INC... (the raw increments) | ${h.replaySeconds.toFixed(2)} | 1.00 |`);
    lines.push(`| rill sort-merge INC... \\| rill replay DST | ${h.mergeReplaySeconds.toFixed(2)} | ${(h.mergeReplaySeconds / h.replaySeconds).toFixed(2)} |`);
    lines.push(`| rill sort-merge alone (peak RSS ${f(h.rssKiB / 1024)} MB) | ${h.mergeSeconds.toFixed(2)} | ${(h.mergeSeconds / h.replaySeconds).toFixed(2)} |`);
  }
  return lines.join('\n');
}

/** "100M", "1G", "10G" → bytes (M = 10^6 for the input sizes people quote, G = GiB). */
function parseSizes(list: string): number[] {
  return list.split(',').map((s) => {
    const m = /^(\d+(?:\.\d+)?)([MG])$/.exec(s.trim());
    if (m === null) throw new Error(`bad size ${s}: use e.g. 100M, 1G`);
    return Number(m[1]) * (m[2] === 'M' ? 1e6 : 2 ** 30);
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const quick = args.includes('--quick');
  const base = resolve(args.includes('--dir') ? args[args.indexOf('--dir') + 1]! : join(process.env.TMPDIR ?? '/var/tmp', 'rill-bench'));
  const sizes = args.includes('--sizes') ? parseSizes(args[args.indexOf('--sizes') + 1]!) : undefined;
  mkdirSync(base, { recursive: true });
  mergeBench({ rill: resolve(import.meta.dirname, '../bin/rill'), base, quick, sizes })
    .then((r) => console.log(mergeTables(r)))
    .catch((err: unknown) => {
      process.stderr.write(`bench/merge: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
