// Runs bin/rill (and shell pipelines of it) as a user would, capturing exit code and output.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const RILL = fileURLToPath(new URL('../../bin/rill', import.meta.url));

export interface Result { code: number; stdout: Buffer; stderr: string }

/** Runs `rill ARGS...` with optional stdin bytes. */
export function rill(args: string[], input?: Buffer | string): Result {
  const r = spawnSync(RILL, args, { input, maxBuffer: 1 << 30 });
  return { code: r.status ?? 128 + 9, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** Runs a bash pipeline with pipefail; `rill` in it is bin/rill. */
export function sh(script: string): Result {
  const r = spawnSync('bash', ['-o', 'pipefail', '-c', script], { env: { ...process.env, PATH: `${RILL.replace(/\/rill$/, '')}:${process.env.PATH}` }, maxBuffer: 1 << 30 });
  return { code: r.status ?? 128 + 9, stdout: r.stdout, stderr: r.stderr.toString() };
}

/** A shell-quoted argument. */
export function q(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}
