// Running rill freeze in the background as a user would (bin/rill), and waiting for what it does.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { RILL } from '../helpers/cli.js';

export interface Finished { code: number; signal: NodeJS.Signals | null; stdout: Buffer; stderr: string }

/** Starts `rill ARGS`; `done` resolves when it exited and its output closed. */
export function start(args: string[], env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; done: Promise<Finished> } {
  const child = spawn(RILL, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
  const out: Buffer[] = [];
  let err = '';
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  const done = new Promise<Finished>((resolve) => {
    child.once('close', (code, signal) => resolve({ code: code ?? 128 + 9, signal, stdout: Buffer.concat(out), stderr: err }));
  });
  return { child, done };
}

/** Waits until path exists (polling), at most ms; throws when it does not appear. */
export async function waitFor(path: string, ms = 15_000, what = path): Promise<void> {
  const until = performance.now() + ms;
  while (!existsSync(path)) {
    if (performance.now() > until) throw new Error(`${what} did not appear within ${ms} ms`);
    await sleep(20);
  }
}

/** Runs fn in a child shell that writes `path` on the file system; resolves with ms until the write returned. */
export function timedWrite(path: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve, reject) => {
    const c = spawn('sh', ['-c', `echo written > '${path}'`], { stdio: 'ignore' });
    c.once('error', reject);
    c.once('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`write to ${path} failed: ${code}`))));
  });
}
