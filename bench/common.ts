// What every benchmark module shares: timed shell commands, medians, the command line
// (--quick, --runs N, --dir DIR) and whether a module runs on its own.
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Runs cmd with bash -o pipefail; its wall time and stdout; throws with stderr on failure. */
export function run(cmd: string): { seconds: number; stdout: string } {
  const t0 = process.hrtime.bigint();
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 26 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.status !== 0) throw new Error(`benchmark command failed (${r.status}): ${cmd}\n${r.stderr}`);
  return { seconds, stdout: r.stdout.toString() };
}

/** Wall time of cmd (see run). */
export const time = (cmd: string): number => run(cmd).seconds;

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export function have(tool: string): boolean {
  return spawnSync('bash', ['-c', `command -v ${tool}`]).status === 0;
}

/** The benchmarks' command line: --quick (CI's smoke run), --runs N (default 1 quick, else 3), --dir DIR (created). */
export function benchArgs(argv = process.argv.slice(2)): { quick: boolean; runs: number; base: string } {
  const quick = argv.includes('--quick');
  const runs = Number(argv[argv.indexOf('--runs') + 1] ?? 0) || (quick ? 1 : 3);
  const base = resolve(argv.includes('--dir') ? argv[argv.indexOf('--dir') + 1]! : join(process.env.TMPDIR ?? '/var/tmp', 'rill-bench'));
  mkdirSync(base, { recursive: true });
  return { quick, runs, base };
}

/** The module at this URL is the one node was started with (run alone, not imported). */
export function isMain(url: string): boolean {
  return process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(url);
}

/** bin/rill of this checkout. */
export const RILL_BIN = resolve(import.meta.dirname, '../bin/rill');
