// Hooks and the command run while frozen: each in its own process group (so a deadline or a signal
// stops the whole of it, shell pipelines included), bounded by a deadline, stdout kept off rill's
// stream output.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { constants } from 'node:os';
import { RillError } from '../errors.js';

/** How a child ended. */
export interface Ended {
  /** Exit status, or 128 + signal number. */
  code: number;
  signal?: NodeJS.Signals;
  /** It was stopped because the deadline came. */
  timedOut: boolean;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  /** performance.now() value at which it is stopped (SIGTERM, then SIGKILL 1 s later). */
  deadline: number;
  stdio: StdioOptions;
  /** Called with the child's process group once it runs (the watchdog stops it if rill dies). */
  onGroup?: (pgid: number) => void;
}

/** Children running now, so a signal handler can stop them all. */
const running = new Set<number>();

/** SIGTERMs every running hook or command (their whole process groups). */
export function stopAll(signal: NodeJS.Signals = 'SIGTERM'): void {
  for (const pgid of running) {
    try {
      process.kill(-pgid, signal);
    } catch {
      // ended already
    }
  }
}

/** Runs argv (argv[0] looked up in PATH) in its own process group; never rejects for a non-zero exit. */
export function runProcess(argv: string[], what: string, options: RunOptions): Promise<Ended> {
  return startProcess(argv, what, options).ended;
}

/** runProcess, with the child (its stdout when piped). */
export function startProcess(argv: string[], what: string, options: RunOptions): { child: ChildProcess; ended: Promise<Ended> } {
  const child = spawn(argv[0]!, argv.slice(1), { env: options.env, stdio: options.stdio, detached: true });
  const ended = new Promise<Ended>((resolve, reject) => {
    let timedOut = false;
    let kill: NodeJS.Timeout | undefined;
    const left = Math.max(0, options.deadline - performance.now());
    const timer = setTimeout(() => {
      timedOut = true;
      signalGroup(child.pid, 'SIGTERM');
      kill = setTimeout(() => signalGroup(child.pid, 'SIGKILL'), 1000);
    }, left);
    child.once('spawn', () => {
      running.add(child.pid!);
      options.onGroup?.(child.pid!);
    });
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new RillError('io', `cannot run ${what}: ${err.message}`, { cause: err }));
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (kill !== undefined) clearTimeout(kill);
      running.delete(child.pid!);
      resolve({ code: code ?? 128 + signalNumber(signal), signal: signal ?? undefined, timedOut });
    });
  });
  return { child, ended };
}

/** Runs a shell command line (`sh -c`), its output on stderr (rill's stdout may carry a stream). */
export function runHook(command: string, what: string, options: Omit<RunOptions, 'stdio'>): Promise<Ended> {
  return runProcess(['/bin/sh', '-c', command], what, { ...options, stdio: ['ignore', 2, 2] });
}

function signalGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // the group is empty
  }
}

function signalNumber(signal: NodeJS.Signals | null): number {
  return signal === null ? 0 : (constants.signals[signal] ?? 0);
}

/** "exit 3", "killed by SIGKILL", "stopped at the deadline": how a message says a child ended. */
export function describeEnd(e: Ended): string {
  if (e.timedOut) return 'was stopped at the deadline (--timeout)';
  if (e.signal !== undefined) return `was killed by ${e.signal}`;
  return `failed with exit status ${e.code}`;
}
