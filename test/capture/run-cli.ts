// Runs bin/rill in a child process, as a user would (the built code: npm test builds first).
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RILL } from '../helpers/cli.js';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** node arguments that run `rill ARGS...` */
export function rillArgv(args: string[]): string[] {
  return [RILL, ...args];
}

export interface RunResult {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/** `rill ARGS...` to completion (stdout as bytes). */
export function rill(args: string[], options: SpawnSyncOptions = {}): RunResult {
  const r = spawnSync(process.execPath, rillArgv(args), { cwd: REPO, maxBuffer: 1 << 30, ...options });
  return { status: r.status, stdout: r.stdout as Buffer, stderr: String(r.stderr) };
}

/** `rill ARGS...` whose stdout the reader closes after `bytes` bytes; resolves with its exit status and stderr. */
export function rillClosedEarly(args: string[], bytes: number): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, rillArgv(args), { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    let seen = 0;
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += String(c)));
    child.stdout.on('data', (c: Buffer) => {
      seen += c.length;
      if (seen >= bytes) child.stdout.destroy();
    });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stderr }));
  });
}
