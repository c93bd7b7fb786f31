// Freeze figures, on loop-mounted ext4 and xfs images (needs root): the frozen window (FIFREEZE to
// thaw, as rill freeze --verbose reports it) with a writer appending in a loop, and the time from
// starting `rill freeze --bookmark` in scan mode to the bookmark reaching a replica (its
// --on-bookmark hook running) through capture --scan --state | replay.
// Usage: node --import tsx bench/freeze.ts [--runs N]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loopFs, canLoopMount, type FsType } from '../test/freeze/loop.js';

const args = process.argv.slice(2);
const runs = Number(args[args.indexOf('--runs') + 1] ?? 0) || 10;
const rill = resolve(import.meta.dirname, '../bin/rill');

function quantiles(xs: number[]): { median: number; p90: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, p90: s[Math.min(s.length - 1, Math.floor(s.length * 0.9))]!, max: s.at(-1)! };
}

function bash(cmd: string): { code: number; stderr: string } {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { encoding: 'utf8' });
  return { code: r.status ?? 1, stderr: r.stderr };
}

function bench(type: FsType): Record<string, unknown> {
  const fs = loopFs(type);
  const work = join('/var/tmp', `rill-freeze-bench-${process.pid}`);
  mkdirSync(work, { recursive: true });
  const data = join(fs.dir, 'data');
  mkdirSync(data);
  for (let i = 0; i < 200; i++) writeFileSync(join(data, `f${i}`), Buffer.alloc(16 * 1024, i));
  const writer = spawn('sh', ['-c', `while :; do head -c 65536 /dev/urandom >> '${fs.dir}/log'; done`], { stdio: 'ignore', detached: true });
  try {
    const windows: number[] = [];
    for (let i = 0; i < runs; i++) {
      const r = bash(`${rill} freeze --verbose ${fs.dir} -- true`);
      if (r.code !== 0) throw new Error(r.stderr);
      windows.push(Number(/after ([\d.]+) ms frozen/.exec(r.stderr)![1]));
    }
    const arrivals: number[] = [];
    const pipelineWindows: number[] = [];
    const stamp = join(work, 'arrived');
    for (let i = 0; i < Math.min(runs, 5); i++) {
      writeFileSync(join(data, `f${i}`), Buffer.alloc(16 * 1024, 255 - i));
      const t0 = Date.now();
      const r = bash(`${rill} freeze --verbose --bookmark b${i} ${fs.dir} -- ${rill} capture --scan --state ${work}/state ${data} | ${rill} replay --on-bookmark 'date +%s%3N > ${stamp}' ${work}/replica`);
      if (r.code !== 0) throw new Error(r.stderr);
      arrivals.push(Number(readFileSync(stamp, 'utf8')) - t0);
      pipelineWindows.push(Number(/after ([\d.]+) ms frozen/.exec(r.stderr)![1]));
    }
    return { type, runs, frozenWindowMs: quantiles(windows), freezeToBookmarkOnReplicaMs: quantiles(arrivals), scanFrozenWindowMs: quantiles(pipelineWindows) };
  } finally {
    try {
      process.kill(-writer.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    spawnSync('sleep', ['0.2']);
    rmSync(work, { recursive: true, force: true });
    fs.cleanup();
  }
}

for (const type of ['ext4', 'xfs'] as FsType[]) {
  if (!canLoopMount(type)) {
    process.stderr.write(`bench/freeze: skipping ${type}: needs root, loop devices and mkfs.${type}\n`);
    continue;
  }
  process.stdout.write(`${JSON.stringify(bench(type))}\n`);
}
