// A transport is a command whose stdin carries the stream to a sink and whose stdout carries the
// sink's control records back (ssh host rill replay --ack ROOT, or a local rill ship --sink DIR).
// One small interface so a test or a future transport runs through the same session code.
import { execa } from 'execa';
import type { Readable, Writable } from 'node:stream';

/** A running transport process. */
export interface Transport {
  /** How it is named in messages: the command line. */
  readonly name: string;
  readonly stdin: Writable;
  readonly stdout: Readable;
  /** Resolves when the process has exited (never rejects): its exit code or the signal that ended it. */
  readonly exited: Promise<{ code: number | undefined; signal: string | undefined }>;
  /** Ends it now (SIGKILL): a stalled ssh must not linger. */
  kill(): void;
}

/** Starts argv[0] with argv[1..] (no shell), stderr passed through to ours so ssh's own messages are seen. */
export function spawnTransport(argv: string[]): Transport {
  const [file, ...args] = argv;
  if (file === undefined) throw new Error('internal: an empty transport command');
  const child = execa(file, args, { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit', buffer: false, reject: false, stripFinalNewline: false });
  // Writes into a transport that died fail with EPIPE: that is its exit, handled by the session.
  child.stdin.on('error', () => {});
  child.stdout.on('error', () => {});
  const exited = child.then(
    (r) => ({ code: r.exitCode, signal: r.signal }),
    () => ({ code: undefined, signal: undefined }),
  );
  return {
    name: argv.join(' '),
    stdin: child.stdin,
    stdout: child.stdout,
    exited,
    kill: () => void child.kill('SIGKILL'),
  };
}
