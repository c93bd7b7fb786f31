// Starting and talking to the watchdog process (watchdog-main.ts) that guarantees the thaw: it runs
// in its own session, holds its own fd of the mount point, and thaws at the deadline or as soon as
// this process dies, whatever kills it.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { RillError } from '../errors.js';

/** The watchdog's exit status: how it ended. */
export const WATCHDOG_EXIT = { released: 0, deadline: 3, orphaned: 4, failed: 5 } as const;

/** How long the watchdog may take to start (node start-up, native module) before freeze gives up. */
const START_MS = 10_000;

/** The node arguments that run watchdog-main: compiled, or the TypeScript source under tsx (tests). */
function entry(): string[] {
  const js = new URL('./watchdog-main.js', import.meta.url);
  if (import.meta.url.endsWith('.ts')) return ['--import', 'tsx', fileURLToPath(new URL('./watchdog-main.ts', import.meta.url))];
  return [fileURLToPath(js)];
}

/** A running watchdog for one freeze. */
export class Watchdog {
  /** Set when the watchdog thawed at the deadline (it says "deadline" before exiting). */
  firedAtDeadline = false;
  /** Resolves with its exit status when it ends. */
  readonly exited: Promise<number>;
  private released = false;

  private constructor(private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0)))));
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (s: string) => {
      if (s.includes('deadline')) this.firedAtDeadline = true;
    });
  }

  /** Starts a watchdog for the file system mounted at mountPoint; resolves once it is ready. */
  static async start(mountPoint: string, timeoutMs: number, label: string): Promise<Watchdog> {
    const child = spawn(process.execPath, [...entry(), mountPoint, String(timeoutMs), String(process.pid), label], {
      stdio: ['pipe', 'pipe', 'inherit'],
      detached: true, // its own session: a terminal's ^C and a kill of our process group miss it
      cwd: '/',
    });
    child.stdin!.on('error', () => {}); // it died: noticed through 'exit'
    const ready = new Promise<void>((resolve, reject) => {
      let text = '';
      const onData = (s: Buffer): void => {
        text += s.toString();
        if (text.includes('ready\n')) {
          child.stdout!.off('data', onData);
          resolve();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => reject(new RillError('io', `the freeze watchdog could not start (exit ${code}); nothing was frozen`)));
      child.once('error', (err) => reject(new RillError('io', `cannot start the freeze watchdog: ${err.message}; nothing was frozen`, { cause: err })));
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), START_MS);
    try {
      await ready;
    } finally {
      clearTimeout(timer);
    }
    return new Watchdog(child);
  }

  /** The deadline starts now (call right before freezing). */
  arm(): void {
    this.send('arm');
  }

  /** A process group (CMD, a hook) the watchdog stops if this process dies while frozen. */
  watchGroup(pgid: number): void {
    this.send(`pgid ${pgid}`);
  }

  /** The file system is thawed: the watchdog exits quietly. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.send('thawed');
    this.child.stdin!.end();
    await Promise.race([this.exited, once(this.child, 'exit')]).catch(() => undefined);
  }

  /** Whether the watchdog process is still there to guarantee the thaw. */
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private send(line: string): void {
    if (this.alive) this.child.stdin!.write(`${line}\n`);
  }
}
