// Incremental runs against rsync, in the same run on the same corpus: (a) nothing changed, (a')
// 1% of the files rewritten and a directory renamed. Both targets are up to date first.
import { spawnSync } from 'node:child_process';
import { rmSync, readdirSync, writeFileSync, renameSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { median } from './common.js';

export interface IncrementalResult {
  case: string;
  method: string;
  seconds: number;
  runs: number[];
  /** Bytes of the rill stream (rill only). */
  streamBytes?: number;
}

function time(cmd: string): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.status !== 0) throw new Error(`benchmark command failed (${r.status}): ${cmd}\n${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Rewrites every 100th file and renames one directory back and forth (so the corpus stays reusable). */
function change(src: string, round: number): void {
  let i = 0;
  const walk = (dir: string): void => {
    for (const d of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.isFile() && d.name !== '.done' && i++ % 100 === 0) writeFileSync(p, `changed in round ${round} ${'x'.repeat(200)}\n`);
    }
  };
  walk(src);
  const first = readdirSync(src, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort()[0]!;
  renameSync(join(src, first), join(src, `${first}.renamed`));
}

function unchange(src: string): void {
  for (const d of readdirSync(src)) if (d.endsWith('.renamed')) renameSync(join(src, d), join(src, d.slice(0, -'.renamed'.length)));
}

export function incrementalBench(rill: string, base: string, corpus: string, runs: number): IncrementalResult[] {
  const work = join(base, 'incr');
  rmSync(work, { recursive: true, force: true });
  const state = join(work, 'state');
  const rep = join(work, 'rill');
  const rs = join(work, 'rsync');
  const stream = join(work, 'stream.rill');
  const rillCmd = `mkdir -p ${work} && ${rill} capture --scan --state ${state} ${corpus} | tee ${stream} | ${rill} replay ${rep}`;
  const captureOnly = `${rill} capture --scan --state ${state} ${corpus} > ${stream}`;
  const rsyncCmd = `rsync -a --delete ${corpus}/ ${rs}/`;
  time(rillCmd);
  time(rsyncCmd);
  const out: IncrementalResult[] = [];
  const t: Record<string, number[]> = {};
  const push = (k: string, s: number): void => void (t[k] ??= []).push(s);
  for (let r = 0; r < runs; r++) {
    push('no-op§rill capture --state | replay', time(rillCmd));
    push('no-op§rill capture --state (alone)', time(captureOnly));
    time(`${rill} replay ${rep} ${stream}`); // the replica takes that change set too, or the next one would be refused (a gap)
    push('no-op§rsync -a --delete', time(rsyncCmd));
  }
  const noopBytes = Number(spawnSync('stat', ['-c', '%s', stream]).stdout.toString());
  for (let r = 0; r < runs; r++) {
    change(corpus, r);
    push('1% rewritten, a dir renamed§rill capture --state | replay', time(rillCmd));
    push('1% rewritten, a dir renamed§rsync -a --delete', time(rsyncCmd));
    time(`${rill} verify --quiet ${corpus} ${rep}`);
    unchange(corpus);
    time(rillCmd);
    time(rsyncCmd);
  }
  for (const [key, runsOf] of Object.entries(t)) {
    const [c, method] = key.split('§') as [string, string];
    out.push({ case: c, method, seconds: median(runsOf), runs: runsOf, streamBytes: c === 'no-op' && method.includes('rill') ? noopBytes : undefined });
  }
  rmSync(work, { recursive: true, force: true });
  return out;
}
