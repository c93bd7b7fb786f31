// Starts test/journal/child-writer.ts in a process of its own and reads its lines as they come.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('./child-writer.ts', import.meta.url));

/** A child writer, its lines so far, and a way to wait for a line matching a pattern. */
export interface Child {
  proc: ChildProcessWithoutNullStreams;
  lines: string[];
  waitFor(re: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

export function spawnWriter(args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', SCRIPT, ...args], { stdio: 'pipe' });
  const lines: string[] = [];
  let stderr = '';
  let partial = '';
  const waiters = new Set<() => void>();
  proc.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (partial + chunk).split('\n');
    partial = parts.pop()!;
    lines.push(...parts);
    for (const w of waiters) w();
  });
  proc.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => {
      for (const w of waiters) w();
      resolve({ code, signal, stderr });
    }),
  );
  const waitFor = (re: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        for (let i = lines.length - 1; i >= 0; i--) {
          const m = lines[i]!.match(re);
          if (m !== null) return done(() => resolve(m));
        }
        if (proc.exitCode !== null || proc.signalCode !== null) done(() => reject(new Error(`child exited before printing ${re}: ${stderr}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`child did not print ${re} in ${timeoutMs} ms; stderr: ${stderr}`))), timeoutMs);
      const done = (f: () => void): void => {
        clearTimeout(timer);
        waiters.delete(check);
        f();
      };
      waiters.add(check);
      check();
    });
  return { proc, lines, waitFor, exited };
}
