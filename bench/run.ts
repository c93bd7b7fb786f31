// Benchmarks: full copy of a tree by rill against tar|tar, cp -a and rsync -a in the same run,
// rill ship over ssh (ship.ts), and codec throughput.
// Usage: npm run bench [-- --quick] [-- --runs N] [-- --dir DIR]
// Results: a table on stdout and bench/out/results.json.
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { cpus, totalmem } from 'node:os';
import { smallFiles, largeFiles } from './corpus.js';
import { codecBench } from './codec.js';
import { volumeBench, volumeTables } from './volume.js';
import { incrementalBench } from './incremental.js';
import { shipBench, shipTables } from './ship.js';
import { mergeBench, mergeTables } from './merge.js';
import { median } from './common.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const runs = Number(args[args.indexOf('--runs') + 1] ?? 0) || (quick ? 1 : 3);
const base = resolve(args.includes('--dir') ? args[args.indexOf('--dir') + 1]! : join(process.env.TMPDIR ?? '/var/tmp', 'rill-bench'));
const rill = resolve(import.meta.dirname, '../bin/rill');

function sh(cmd: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`benchmark command failed (${r.status}): ${cmd}\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

function have(tool: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0;
}

const METHODS: Record<string, (src: string, dst: string) => string> = {
  'rill capture|replay': (s, d) => `${rill} capture --scan ${s} | ${rill} replay ${d}`,
  'tar|tar': (s, d) => `mkdir -p ${d} && tar -C ${s} -cf - . | tar -C ${d} -xf -`,
  'cp -a': (s, d) => `cp -a ${s} ${d}`,
  'rsync -a': (s, d) => `rsync -a ${s}/ ${d}/`,
};

interface TreeResult { corpus: string; method: string; seconds: number; ratioToTar: number; runs: number[] }

function benchTree(name: string, src: string): TreeResult[] {
  const dst = join(base, 'dst');
  sh(`tar -C ${src} -cf - . > /dev/null`); // warm the page cache: all methods read warm
  const times: Record<string, number[]> = {};
  for (let r = 0; r < runs; r++) {
    for (const [method, cmd] of Object.entries(METHODS)) {
      if (method.startsWith('rsync') && !have('rsync')) continue;
      rmSync(dst, { recursive: true, force: true });
      sh('sync');
      (times[method] ??= []).push(sh(cmd(src, dst)));
    }
    // The copy must be right, or its time means nothing.
    rmSync(dst, { recursive: true, force: true });
    sh(METHODS['rill capture|replay']!(src, dst));
    sh(`${rill} verify --quiet ${src} ${dst}`);
  }
  rmSync(dst, { recursive: true, force: true });
  const tar = median(times['tar|tar']!);
  return Object.entries(times).map(([method, t]) => ({ corpus: name, method, seconds: median(t), ratioToTar: median(t) / tar, runs: t }));
}

async function main(): Promise<void> {
  mkdirSync(base, { recursive: true });
  const nSmall = quick ? 2000 : 20000;
  const largeMiB = quick ? 64 : 1024;
  const small = join(base, `small-${nSmall}`);
  const large = join(base, `large-${largeMiB}M`);
  process.stderr.write(`corpora in ${base} (generated once, reused)\n`);
  smallFiles(small, nSmall);
  largeFiles(large, largeMiB);
  const tree = [...benchTree(`${nSmall} small files`, small), ...benchTree(`${largeMiB} MiB large files`, large)];
  const incremental = have('rsync') ? incrementalBench(rill, base, small, runs) : [];
  const volume = have('rsync') ? volumeBench({ rill, base, quick, runs }) : [];
  const ship = await shipBench({ rill, base, quick, runs, corpora: [{ name: `${nSmall} small files`, path: small }, { name: `${largeMiB} MiB large files`, path: large }] });
  const merge = await mergeBench({ rill, base, quick });
  const codec = await codecBench(quick);
  const env = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, cpu: cpus()[0]?.model, memGiB: Math.round(totalmem() / 2 ** 30), quick, runs, dir: base };
  mkdirSync(join(import.meta.dirname, 'out'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'out', 'results.json'), JSON.stringify({ env, tree, incremental, volume, ship, merge, codec }, null, 2));

  console.log(`# rill benchmarks (${env.date}, node ${env.node}, ${env.cpus} cpus, median of ${runs} run(s), warm cache)\n`);
  console.log('| corpus | method | seconds | × tar\\|tar |');
  console.log('|---|---|---:|---:|');
  for (const r of tree) console.log(`| ${r.corpus} | ${r.method} | ${r.seconds.toFixed(2)} | ${r.ratioToTar.toFixed(2)} |`);
  console.log(`\n| incremental, ${nSmall} small files | method | seconds | × rsync |`);
  console.log('|---|---|---:|---:|');
  for (const r of incremental) {
    const rsync = incremental.find((x) => x.case === r.case && x.method.startsWith('rsync'))!.seconds;
    console.log(`| ${r.case} | ${r.method} | ${r.seconds.toFixed(2)} | ${(r.seconds / rsync).toFixed(2)} |`);
  }
  if (volume.length > 0) console.log(`\n${volumeTables(volume)}`);
  if (ship.length > 0) console.log(`\n${shipTables(ship)}`);
  console.log(`\n${mergeTables(merge)}`);
  console.log('\n| codec | events | encode MB/s | encode events/s | decode MB/s | decode events/s |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const c of codec) {
    const f = (x: number): string => Math.round(x).toLocaleString('en-US');
    console.log(`| ${c.name} | ${f(c.events)} | ${f(c.bytes / c.encodeSeconds / 1e6)} | ${f(c.events / c.encodeSeconds)} | ${f(c.bytes / c.decodeSeconds / 1e6)} | ${f(c.events / c.decodeSeconds)} |`);
  }
  if (!existsSync(rill)) throw new Error('bin/rill missing');
}

main().catch((err) => {
  process.stderr.write(`bench: ${(err as Error).message}\n`);
  process.exit(1);
});
