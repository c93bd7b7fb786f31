// One destination of ship: a loop of sessions over a transport. Each session reads the sink's
// hello, streams the journal from the sink's position, and follows its acks; a transport that dies
// or stalls is killed and started again after a back-off, resuming from the sink's new hello.
import type { Position } from '../journal/index.js';
import { RillError } from '../errors.js';
import { runSession, type SessionEnd, type SessionSetup } from './session-run.js';
import { spawnTransport, type Transport } from './transport.js';

/**
 * Errors of the sink that a new session may get past: a full disk freed, a previous session's sink
 * still exiting, and stream errors — ship checked every frame it sends, so a sink that reads a
 * truncated or damaged stream saw the transport cut or garble it.
 */
const RETRYABLE = new Set(['io', 'busy', 'internal', 'stream']);

/** What a destination reports to the ship around it (trimming, the log). */
export interface DestinationEvents {
  onAck(d: Destination, at: Position): void;
  onLog(line: string): void;
}

/** Who watches destinations (ShipStats has this shape): sessions, bytes, acks, states by destination name. */
export interface ShipObserver {
  connected(dest: string, heldSeq: number | null): void;
  sent(dest: string, bytes: number, events: number, lastSeq?: number): void;
  acked(dest: string, seq: number): void;
  state(dest: string, state: 'connecting' | 'sending' | 'idle' | 'retrying' | 'done' | 'failed', error?: string): void;
}

export interface DestinationOptions extends Omit<SessionSetup, 'transport' | 'onAck' | 'onLog' | 'onSent' | 'onHello'> {
  observer?: ShipObserver;
  /** Give up after this long without a session making progress (ms; undefined: never). */
  retryForMs?: number;
  /** First back-off delay (ms); doubles per failed attempt up to maxBackoffMs, with ±50% jitter. */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Starts the transport (tests may substitute their own). */
  spawn?: (argv: string[]) => Transport;
}

/** A sink reached through one transport command, with its own cursor into the journal. */
export class Destination {
  /** The last position the sink acknowledged as durable. */
  acked: Position | undefined;
  /** Bytes and events written to the transport, over all sessions. */
  bytesSent = 0;
  eventsSent = 0;
  sessions = 0;
  /** Where it is: connecting, sending, retrying (back-off), done, failed. */
  status: Parameters<ShipObserver['state']>[1] = 'connecting';
  lastAckAt: number | undefined;
  private current: Transport | undefined;
  private stopping = false;
  private wake: (() => void) | undefined;

  constructor(
    readonly name: string,
    private readonly argv: string[],
    private readonly options: DestinationOptions,
    private readonly events: DestinationEvents,
  ) {}

  /** Runs sessions until the input is delivered and acknowledged; throws on a sink's fatal error or when retries run out. */
  async run(): Promise<void> {
    let attempt = 0;
    let lastProgress = Date.now();
    for (;;) {
      if (this.stopping) return;
      this.setStatus('connecting');
      this.sessions++;
      const before = this.acked;
      let end: SessionEnd;
      try {
        this.current = (this.options.spawn ?? spawnTransport)(this.argv);
        end = await runSession({
          ...this.options,
          transport: this.current,
          onHello: (seq) => this.options.observer?.connected(this.name, seq),
          onAck: (at) => {
            this.acked = at;
            this.lastAckAt = Date.now();
            this.options.observer?.acked(this.name, at.seq);
            this.events.onAck(this, at);
          },
          onSent: (bytes, events, lastSeq) => {
            if (this.status !== 'sending') this.setStatus('sending');
            this.bytesSent += bytes;
            this.eventsSent += events;
            this.options.observer?.sent(this.name, bytes, events, lastSeq);
          },
          onLog: (line) => this.events.onLog(`${this.name}: ${line}`),
        });
      } catch (err) {
        end = { done: false, why: (err as Error).message, fatal: err instanceof RillError && err.kind !== 'io' ? err : undefined };
      } finally {
        this.current = undefined;
      }
      if (end.done) {
        this.setStatus('done');
        return;
      }
      if (end.sinkError !== undefined && !RETRYABLE.has(end.sinkError.kind)) {
        this.setStatus('failed', end.sinkError.message);
        throw new RillError(kindOf(end.sinkError.kind), `the sink (${this.name}) stopped: ${end.sinkError.message}`, { hint: `its exit status was ${end.sinkError.exit}` });
      }
      if (end.fatal !== undefined) {
        this.setStatus('failed', end.fatal.message);
        throw end.fatal;
      }
      if (this.stopping) return;
      if (progressed(before, this.acked)) {
        attempt = 0;
        lastProgress = Date.now();
      }
      if (this.options.retryForMs !== undefined && Date.now() - lastProgress > this.options.retryForMs) {
        this.setStatus('failed', end.why);
        throw new RillError('io', `${this.name}: no progress for ${Math.round((Date.now() - lastProgress) / 1000)} s (${end.why}); giving up (--retry-for)`);
      }
      const delay = backoff(attempt++, this.options.backoffMs ?? 500, this.options.maxBackoffMs ?? 30_000);
      this.setStatus('retrying', end.why);
      this.events.onLog(`${this.name}: ${end.why}; reconnecting in ${(delay / 1000).toFixed(1)} s`);
      await new Promise<void>((r) => {
        const timer = setTimeout(r, delay);
        this.wake = () => {
          clearTimeout(timer);
          r();
        };
      });
      this.wake = undefined;
    }
  }

  private setStatus(status: Destination['status'], error?: string): void {
    this.status = status;
    this.options.observer?.state(this.name, status, error);
  }

  /** Stops at once: the transport is killed; run() returns. */
  stop(): void {
    this.stopping = true;
    this.current?.kill();
    this.wake?.();
  }
}

function progressed(a: Position | undefined, b: Position | undefined): boolean {
  return b !== undefined && (a === undefined || a.source !== b.source || b.seq > a.seq);
}

/** Exponential back-off with ±50% jitter, so many ships do not reconnect in step. */
export function backoff(attempt: number, base: number, max: number): number {
  const d = Math.min(max, base * 2 ** Math.min(attempt, 30));
  return Math.round(d * (0.5 + Math.random()));
}

function kindOf(k: string): 'stream' | 'unsafe' | 'mismatch' | 'usage' | 'io' {
  return k === 'stream' || k === 'unsafe' || k === 'mismatch' || k === 'usage' ? k : 'io';
}
