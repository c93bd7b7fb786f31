// rill freeze's core: pre hooks → quiesce (FIFREEZE or pause) → bookmark → CMD → thaw → post hooks,
// with the thaw owed on every path: errors, the deadline, SIGINT/SIGTERM/SIGHUP, and (through the
// watchdog or the capture's own deadline) rill's death.
import type { Writable } from 'node:stream';
import { RillError } from '../errors.js';
import { StreamDecoder } from '../stream/decode.js';
import type { StreamRecord } from '../stream/events.js';
import { insertBookmarks, nowNs } from './insert.js';
import { describeEnd, runHook, startProcess, stopAll, type Ended } from './process.js';
import type { Quiescer } from './quiesce.js';
import { writeRecords } from './stream-out.js';

export interface FreezeOptions {
  /** The hard deadline of the frozen window (ms). */
  timeoutMs: number;
  pre: string[];
  post: string[];
  bookmark?: string;
  /** -- CMD ARGS...: run while frozen. */
  command?: string[];
  /** Where CMD's stream goes with a bookmark put in (FIFREEZE mode with --bookmark). */
  out: Writable;
  log: (line: string) => void;
  verbose: boolean;
}

/** Exit statuses of freeze beyond the usual ones (documented in rill-freeze(1)). */
export const FREEZE_EXIT = { deadline: 124 } as const;

export interface FreezeResult {
  /** The exit status: 0, CMD's own status, 124 at the deadline, 130/143/129 on a signal. */
  code: number;
  /** Freeze to thaw, ms (undefined when it never froze). */
  frozenMs?: number;
  /** seq of the bookmark the capture emitted (mount mode). */
  bookmarkSeq?: number;
}

const SIGNAL_EXIT: Record<string, number> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 };

/** Runs a whole freeze. Throws RillError for rill's own failures (after thawing and running the post hooks). */
export async function freeze(q: Quiescer, o: FreezeOptions): Promise<FreezeResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, RILL_ROOT: q.root, RILL_MOUNT: q.mount };
  if (o.bookmark !== undefined) env.RILL_BOOKMARK = o.bookmark;
  let signal: NodeJS.Signals | undefined;
  let interrupt: () => void = () => {};
  const interrupted = new Promise<void>((resolve) => (interrupt = resolve));
  const onSignal = (sig: NodeJS.Signals): void => {
    if (signal !== undefined) return;
    signal = sig;
    q.thawNow(); // at once, before anything else
    stopAll('SIGTERM');
    interrupt();
  };
  const sigs = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
  for (const s of sigs) process.on(s, onSignal);

  let failure: unknown;
  let result: FreezeResult = { code: 0 };
  try {
    result = await quiesced(q, o, env, interrupted, () => signal);
  } catch (err) {
    failure = err;
  } finally {
    try {
      await q.close();
    } catch (err) {
      failure ??= err;
    }
  }
  // Post hooks: also after a failure or a signal (they undo what pre hooks did).
  env.RILL_FREEZE_STATUS = failure === undefined && signal === undefined && result.code === 0 ? 'ok' : 'failed';
  const postFailure = await runHooks(o.post, '--post', env, o.timeoutMs, o.log);
  for (const s of sigs) process.off(s, onSignal);
  if (signal !== undefined) {
    o.log(`${signal}: thawed ${q.label} at once`);
    return { ...result, code: SIGNAL_EXIT[signal] ?? 130 };
  }
  if (failure !== undefined) throw failure;
  if (postFailure !== undefined) throw postFailure;
  return result;
}

/** Pre hooks, then the frozen window; the thaw before returning. */
async function quiesced(q: Quiescer, o: FreezeOptions, env: NodeJS.ProcessEnv, interrupted: Promise<void>, signal: () => NodeJS.Signals | undefined): Promise<FreezeResult> {
  await q.check(o.command);
  env.RILL_MOUNT = q.mount; // known once the capture said its root
  const preFailure = await runHooks(o.pre, '--pre', env, o.timeoutMs, o.log, true);
  if (preFailure !== undefined) throw preFailure;
  if (signal() !== undefined) return { code: 0 };

  await q.prepare(o.timeoutMs);
  if (signal() !== undefined) return { code: 0 };
  // rill's own deadline comes a little before the watchdog's, so that normally rill thaws and reports.
  const margin = Math.min(250, o.timeoutMs / 10);
  const started = performance.now();
  const deadline = started + o.timeoutMs - margin;
  let timedOut = false;
  await q.freeze(o.timeoutMs);
  const frozenAt = performance.now();
  const wall = nowNs();
  const timer = setTimeout(() => {
    timedOut = true;
    q.thawNow();
    stopAll('SIGTERM');
  }, Math.max(0, deadline - performance.now()));
  const result: FreezeResult = { code: 0 };
  let thawed = false;
  try {
    if (signal() !== undefined) return result;
    if (o.verbose) o.log(`froze ${q.label} in ${Math.round(frozenAt - started)} ms`);
    if (o.bookmark !== undefined && q.bookmark !== undefined) {
      result.bookmarkSeq = await q.bookmark(o.bookmark);
      env.RILL_BOOKMARK_SEQ = String(result.bookmarkSeq);
      if (o.verbose) o.log(`bookmark ${JSON.stringify(o.bookmark)} at seq ${result.bookmarkSeq}`);
    }
    if (o.command !== undefined) {
      const withStream = o.bookmark !== undefined && q.bookmark === undefined;
      const ran = runCommand(o.command, env, deadline, q, withStream ? { out: o.out, name: o.bookmark!, wall } : undefined);
      const ended = await Promise.race([ran.ended, interrupted.then(() => undefined)]);
      // The thaw does not wait for the stream to reach the reader: the command is done with the file system.
      thawed = await q.thaw();
      result.frozenMs = performance.now() - started;
      if (ended === undefined || signal() !== undefined) return result;
      await ran.streamed.catch((err: unknown) => {
        if (ended.code === 0 && !timedOut) throw err;
      });
      if (timedOut || ended.timedOut) return deadlineReached(q, o, result);
      if (ended.code !== 0) {
        o.log(`the command ${JSON.stringify(o.command.join(' '))} ${describeEnd(ended)}`);
        result.code = ended.code;
      }
    }
  } finally {
    clearTimeout(timer);
    if (!thawed) await q.thaw();
    result.frozenMs ??= performance.now() - started;
  }
  if (timedOut) return deadlineReached(q, o, result);
  if (q.lost !== undefined) throw new RillError('io', `${q.lost}: thawed ${q.label} at once, before the command was done`, { hint: 'the frozen point may not be consistent: run the freeze again' });
  if (o.verbose) o.log(`thawed ${q.label} after ${result.frozenMs.toFixed(1)} ms frozen`);
  return result;
}

/** The deadline came first: thawed, what ran was stopped; exit 124 (like timeout(1)). */
function deadlineReached(q: Quiescer, o: FreezeOptions, result: FreezeResult): FreezeResult {
  o.log(`the ${o.timeoutMs / 1000} s deadline (--timeout) came while ${q.label} was frozen: thawed it and stopped what was running; raise --timeout, or make the command faster`);
  return { ...result, code: FREEZE_EXIT.deadline };
}

/** CMD with its output passed through as a stream, the bookmark in place of its last commit. */
function runCommand(
  argv: string[],
  env: NodeJS.ProcessEnv,
  deadline: number,
  q: Quiescer,
  stream: { out: Writable; name: string; wall: bigint } | undefined,
): { ended: Promise<Ended>; streamed: Promise<void> } {
  const { child, ended } = startProcess(argv, `the command ${JSON.stringify(argv[0])}`, {
    env,
    deadline,
    stdio: ['inherit', stream === undefined ? 'inherit' : 'pipe', 'inherit'],
    onGroup: (pgid) => q.watchGroup(pgid),
  });
  if (stream === undefined) return { ended, streamed: Promise.resolve() };
  const streamed = (async () => {
    const decoder = new StreamDecoder({ input: "the command's output" });
    child.stdout!.pipe(decoder);
    await writeRecords(insertBookmarks(decoder as AsyncIterable<StreamRecord[]>, { name: stream.name, consistent: true, wall: () => stream.wall }), stream.out);
  })();
  streamed.catch(() => {});
  return { ended, streamed };
}

/** Hooks in order; the first failure is returned (and, for pre hooks, the rest are not run). */
async function runHooks(hooks: string[], flag: string, env: NodeJS.ProcessEnv, timeoutMs: number, log: (line: string) => void, stopAtFailure = false): Promise<RillError | undefined> {
  let first: RillError | undefined;
  for (const hook of hooks) {
    const ended = await runHook(hook, `${flag} hook`, { env: { ...env, RILL_PHASE: flag.slice(2) }, deadline: performance.now() + timeoutMs });
    if (ended.code === 0 && !ended.timedOut) continue;
    const what = ended.timedOut ? `did not finish within ${timeoutMs / 1000} s (--timeout) and was stopped` : describeEnd(ended);
    const err = new RillError('io', `${flag} hook ${JSON.stringify(hook)} ${what}${flag === '--pre' ? ': nothing was frozen' : ''}`);
    if (first === undefined) first = err;
    else log(err.message);
    if (stopAtFailure) break;
  }
  return first;
}
