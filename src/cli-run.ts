// The one place where errors become messages and exit codes, and where EPIPE ends a command quietly.
import { RillError, type ErrorKind } from './errors.js';
import { widenStdioPipes } from './cli-io.js';

/** Exit codes, documented in man/rill.1. */
export const EXIT = {
  ok: 0,
  /** verify: trees differ; replay --until: bookmark not reached. */
  different: 1,
  usage: 2,
  /** Corrupt, truncated, malformed or unsupported stream. */
  stream: 3,
  /** Refused as unsafe: a path leaving the root, a symlink in the way, a type conflict. */
  unsafe: 4,
  /** A file-system or system error: ENOSPC, EACCES, a missing source... */
  io: 5,
  /** The command is part of the contract but not built yet. */
  unimplemented: 6,
  /** The input does not fit: a stream of another source, a gap in seq, a foreign or stale state file. */
  mismatch: 7,
  /** In use: another process holds the lock (a journal directory's writer). */
  busy: 8,
  /** Killed by SIGINT. */
  interrupted: 130,
  /** Stopped by SIGTERM (ship, after stopping cleanly). */
  terminated: 143,
  /** Output pipe closed by the reader (128 + SIGPIPE), exits quietly. */
  pipe: 141,
} as const;

const KIND_EXIT: Record<ErrorKind, number> = {
  usage: EXIT.usage,
  stream: EXIT.stream,
  unsafe: EXIT.unsafe,
  io: EXIT.io,
  unimplemented: EXIT.unimplemented,
  mismatch: EXIT.mismatch,
  busy: EXIT.busy,
};

function isEpipe(err: unknown): boolean {
  const e = err as NodeJS.ErrnoException | undefined;
  return e?.code === 'EPIPE' || e?.code === 'ERR_STREAM_DESTROYED' || (e?.cause !== undefined && isEpipe(e.cause));
}

/** The exit status an error ends a command with (what reportError returns, without printing). */
export function exitCodeOf(err: unknown): number {
  if (isEpipe(err)) return EXIT.pipe;
  if (err instanceof RillError) return KIND_EXIT[err.kind];
  return (err as NodeJS.ErrnoException | undefined)?.code ? EXIT.io : 70; // 70: internal error (EX_SOFTWARE), a bug in rill
}

/** The one line reportError prints for an error (without the command name). */
export function describeError(err: unknown): string {
  if (err instanceof RillError) return err.describe();
  return (err as Error | undefined)?.message ?? String(err);
}

/** Prints one line for the error and returns the exit code for it. */
export function reportError(command: string, err: unknown): number {
  const code = exitCodeOf(err);
  if (code === EXIT.pipe) return code;
  process.stderr.write(`rill ${command}: ${describeError(err)}\n`);
  const e = err as NodeJS.ErrnoException | undefined;
  if (process.env.RILL_DEBUG || (!(err instanceof RillError) && !e?.code)) process.stderr.write(`${(err as Error | undefined)?.stack ?? ''}\n`);
  return code;
}

let exiting = false;
const cleanups = new Set<() => void>();

/**
 * Registers work to undo if the command ends early (EPIPE, SIGINT, an error): e.g. remove temp
 * files so an interrupted run leaves the old state. Returns the function that unregisters it.
 */
export function onEarlyExit(fn: () => void): () => void {
  cleanups.add(fn);
  return () => cleanups.delete(fn);
}

/**
 * Runs a command body; its resolved number (default 0) is the exit code. Never returns. SIGINT ends
 * the command at once unless `ownSignals` (the body handles SIGINT and SIGTERM itself).
 */
export async function run(command: string, body: () => Promise<number | void>, options: { ownSignals?: boolean } = {}): Promise<never> {
  process.stdout.on('error', (err) => {
    if (isEpipe(err)) finish(EXIT.pipe);
  });
  if (options.ownSignals !== true) process.once('SIGINT', () => finish(EXIT.interrupted));
  // Node exits 0 when its event loop empties, even with this command still awaiting something:
  // that is a bug in rill, and must never look like success.
  process.once('beforeExit', () => {
    if (!exiting) {
      process.stderr.write(`rill ${command}: internal error: stopped before finishing (nothing left to wait for); please report this\n`);
      finish(70);
    }
  });
  let code: number;
  try {
    widenStdioPipes();
    code = (await body()) ?? EXIT.ok;
  } catch (err) {
    code = reportError(command, err);
  }
  return finish(code);
}

function finish(code: number): never {
  if (!exiting) {
    exiting = true;
    for (const fn of cleanups) {
      try {
        fn();
      } catch {
        // best effort: the exit code already tells what went wrong
      }
    }
    process.exitCode = code;
    // Let stdout drain before exiting (pipes are asynchronous in Node).
    if (code !== EXIT.pipe && process.stdout.writableLength > 0) {
      process.stdout.once('drain', () => process.exit(code));
      process.stdout.once('error', () => process.exit(code));
      return undefined as never;
    }
  }
  process.exit(code);
}
