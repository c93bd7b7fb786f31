// What `rill ship` did, per destination: bytes and events sent, events acknowledged, reconnects,
// the last ack, and how far the sink lags. Written as JSON to `--stats FILE` every few seconds and
// at exit (atomically: a reader never sees half a file), printed as one line for `--json`, and
// shown on a terminal by progress.ts. Ship's loop reports what happens; this module only counts.
//
//   const stats = new ShipStats({ file: argv.stats, onWarning: log }).start();
//   stats.connected(dest, hello.seq);           // a session began; the sink holds through seq
//   stats.sent(dest, bytes, events, lastSeq);   // after each write to the transport
//   stats.acked(dest, seq);                     // after each ack
//   progress.update(dest, stats.destination(dest));
//   const report = stats.finish(exitStatus);    // at exit; --json: print stats.jsonLine()
import { basename, dirname, join } from 'node:path';
import { ioError, RillError } from '../errors.js';
import { replaceDurably } from '../replica/durable.js';

/** Where a destination is; why: shown by progress and kept in the stats file. */
export type DestinationState = 'connecting' | 'sending' | 'idle' | 'retrying' | 'done' | 'failed';

/** One destination's counters (the JSON shape of --stats and --json; progress shows the same). */
export interface DestinationStats {
  /** The destination as the user named it (the command line). */
  name: string;
  state: DestinationState;
  /** Stream bytes written to the transport, resent ones included. */
  bytesSent: number;
  /** Events written to the transport, resent ones included. */
  eventsSent: number;
  /** Events the sink acknowledged as durable (of those sent by this ship). */
  eventsAcked: number;
  /** Sessions started after the first one. */
  reconnects: number;
  /** Highest seq sent; null before any event. */
  seqSent: number | null;
  /** Highest seq the sink acknowledged or said it held; null before any. */
  seqAcked: number | null;
  /** When the last ack came (ISO 8601); null before any. */
  lastAckAt: string | null;
  /** seqSent − seqAcked: how far the sink is behind in seq (0 when all is acked; null when unknown). */
  lagSeq: number | null;
  /** Seconds since the oldest event sent and not yet acknowledged was sent (0 when all is acked). */
  lagSeconds: number;
  /** The last failure of a session (the transport died, the sink stopped), for people; null if none. */
  lastError: string | null;
}

/** The whole report: the stats file's content and the --json line. */
export interface ShipStatsReport {
  command: 'ship';
  /** Bumped when a field changes meaning or goes away (new fields may appear at any time). */
  version: 1;
  startedAt: string;
  /** Set by finish(); null while ship runs. */
  endedAt: string | null;
  elapsedSeconds: number;
  /** ship's exit status, set by finish(); null while it runs. */
  exitStatus: number | null;
  totals: { bytesSent: number; eventsSent: number; eventsAcked: number; reconnects: number };
  destinations: DestinationStats[];
}

/** How ShipStats writes its file; why: --stats FILE and a clock tests can move. */
export interface ShipStatsOptions {
  /** --stats FILE: rewritten every intervalMs once start() is called, and by finish(). */
  file?: string;
  /** Default 5000 ms. */
  intervalMs?: number;
  /** Wall clock in ms (default Date.now); injectable for tests. */
  now?: () => number;
  /** A periodic write of the stats file failed (ship goes on); default: ignored. */
  onWarning?: (message: string) => void;
}

/** A batch of events written and not yet acknowledged. */
interface InFlight {
  lastSeq: number;
  events: number;
  at: number;
}

/** Counters of one destination (times in ms). */
class Destination {
  state: DestinationState = 'connecting';
  bytesSent = 0;
  eventsSent = 0;
  eventsAcked = 0;
  sessions = 0;
  seqSent: number | null = null;
  seqAcked: number | null = null;
  lastAckAt: number | null = null;
  lastError: string | null = null;
  /** Batches sent in this session and not acknowledged, oldest first. */
  inFlight: InFlight[] = [];
  /** When the oldest unacknowledged event of an earlier session was sent (it will be sent again). */
  carriedSince: number | null = null;

  constructor(readonly name: string) {}

  /** Counts batches the sink now holds (lastSeq ≤ seq) as acknowledged; returns their events. */
  settle(seq: number): number {
    let n = 0;
    while (this.inFlight.length > 0 && this.inFlight[0]!.lastSeq <= seq) n += this.inFlight.shift()!.events;
    if (this.seqSent !== null && seq >= this.seqSent) this.carriedSince = null;
    return n;
  }

  snapshot(now: number): DestinationStats {
    const oldest = Math.min(this.carriedSince ?? Infinity, this.inFlight[0]?.at ?? Infinity);
    const lagSeq = this.seqSent === null ? 0 : this.seqAcked === null ? null : Math.max(0, this.seqSent - this.seqAcked);
    return {
      name: this.name,
      state: this.state,
      bytesSent: this.bytesSent,
      eventsSent: this.eventsSent,
      eventsAcked: this.eventsAcked,
      reconnects: Math.max(0, this.sessions - 1),
      seqSent: this.seqSent,
      seqAcked: this.seqAcked,
      lastAckAt: this.lastAckAt === null ? null : new Date(this.lastAckAt).toISOString(),
      lagSeq,
      lagSeconds: oldest === Infinity ? 0 : Math.max(0, (now - oldest) / 1000),
      lastError: this.lastError,
    };
  }
}

/** Ship's statistics; why: one object the main loop feeds and --stats, --json and progress read. */
export class ShipStats {
  private readonly dests = new Map<string, Destination>();
  private readonly now: () => number;
  private readonly startedAt: number;
  private endedAt: number | null = null;
  private exitStatus: number | null = null;
  private timer: NodeJS.Timeout | undefined;
  private lastWarning: string | undefined;

  constructor(private readonly options: ShipStatsOptions = {}) {
    this.now = options.now ?? Date.now;
    this.startedAt = this.now();
  }

  /** Starts rewriting the stats file every intervalMs (no-op without a file); the timer never keeps the process alive. */
  start(): this {
    if (this.options.file !== undefined && this.timer === undefined) {
      this.writeQuietly();
      this.timer = setInterval(() => this.writeQuietly(), this.options.intervalMs ?? 5000);
      this.timer.unref();
    }
    return this;
  }

  /** Registers a destination up front (so it is listed before its first session); returns its name. */
  add(dest: string): string {
    this.get(dest);
    return dest;
  }

  /** The destination is now in `state`; a failure's text is kept as lastError. */
  state(dest: string, state: DestinationState, error?: string): void {
    const d = this.get(dest);
    d.state = state;
    if (error !== undefined) d.lastError = error;
  }

  /** A session began and the sink said it holds events through `heldSeq` (null: nothing). */
  connected(dest: string, heldSeq: number | null): void {
    const d = this.get(dest);
    d.sessions++;
    d.state = 'sending';
    if (heldSeq !== null) d.eventsAcked += this.ackedAt(d, heldSeq);
    // What is still unacknowledged will be sent again: keep how long it has waited, drop the batches.
    const oldest = d.inFlight[0]?.at;
    if (oldest !== undefined && (d.carriedSince === null || oldest < d.carriedSince)) d.carriedSince = oldest;
    d.inFlight = [];
  }

  /** `bytes` of stream holding `events` events, the last with seq `lastSeq`, were written to the transport. */
  sent(dest: string, bytes: number, events: number, lastSeq?: number): void {
    const d = this.get(dest);
    d.bytesSent += bytes;
    d.eventsSent += events;
    if (lastSeq !== undefined) {
      if (d.seqSent === null || lastSeq > d.seqSent) d.seqSent = lastSeq;
      if (events > 0) d.inFlight.push({ lastSeq, events, at: this.now() });
    }
  }

  /**
   * The sink acknowledged events through `seq`. Events acknowledged are counted from the batches
   * given to sent() that end at or below seq, unless the caller knows the number (`events`).
   */
  acked(dest: string, seq: number, events?: number): void {
    const d = this.get(dest);
    const settled = this.ackedAt(d, seq);
    d.eventsAcked += events ?? settled;
    d.lastAckAt = this.now();
  }

  /** A snapshot of one destination; why: what progress.update() is given. */
  destination(dest: string): DestinationStats {
    return this.get(dest).snapshot(this.now());
  }

  /** The whole report as it stands. */
  report(): ShipStatsReport {
    const now = this.endedAt ?? this.now();
    const destinations = [...this.dests.values()].map((d) => d.snapshot(now));
    const sum = (k: 'bytesSent' | 'eventsSent' | 'eventsAcked' | 'reconnects'): number => destinations.reduce((a, d) => a + d[k], 0);
    return {
      command: 'ship',
      version: 1,
      startedAt: new Date(this.startedAt).toISOString(),
      endedAt: this.endedAt === null ? null : new Date(this.endedAt).toISOString(),
      elapsedSeconds: (now - this.startedAt) / 1000,
      exitStatus: this.exitStatus,
      totals: { bytesSent: sum('bytesSent'), eventsSent: sum('eventsSent'), eventsAcked: sum('eventsAcked'), reconnects: sum('reconnects') },
      destinations,
    };
  }

  /** The report as one JSON line (no newline); why: --json prints it on stdout at exit. */
  jsonLine(): string {
    return JSON.stringify(this.report());
  }

  /** Writes the stats file now, atomically and durably (no-op without a file); throws a RillError 'io'. */
  write(): void {
    const file = this.options.file;
    if (file === undefined) return;
    const tmp = join(dirname(file), `.${basename(file)}.${process.pid}.tmp`);
    try {
      replaceDurably(tmp, file, dirname(file), `${JSON.stringify(this.report(), null, 2)}\n`);
    } catch (err) {
      throw ioError('cannot write the stats file (--stats)', file, err instanceof RillError && err.cause !== undefined ? err.cause : err);
    }
  }

  /** Records the end and the exit status, stops the timer, writes the file; returns the final report. Throws if the file cannot be written. */
  finish(exitStatus: number): ShipStatsReport {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.endedAt ??= this.now();
    this.exitStatus = exitStatus;
    this.write();
    return this.report();
  }

  private get(dest: string): Destination {
    let d = this.dests.get(dest);
    if (d === undefined) this.dests.set(dest, (d = new Destination(dest)));
    return d;
  }

  private ackedAt(d: Destination, seq: number): number {
    if (d.seqAcked === null || seq > d.seqAcked) d.seqAcked = seq;
    return d.settle(seq);
  }

  private writeQuietly(): void {
    try {
      this.write();
      this.lastWarning = undefined;
    } catch (err) {
      const message = err instanceof RillError ? err.describe() : String(err);
      if (message !== this.lastWarning) this.options.onWarning?.(message);
      this.lastWarning = message;
    }
  }
}
