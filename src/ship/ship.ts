// rill ship: the input (stdin spooled to a journal, or a journal followed live) delivered to one or
// more sinks, each with its own cursor; the journal is trimmed behind the slowest acknowledgement.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { RillError } from '../errors.js';
import { JournalWriter, journalEnd, trimJournal, Waker, type Position } from '../journal/index.js';
import type { StreamRecord } from '../stream/events.js';
import { Destination, type ShipObserver } from './destination.js';
import { spoolInput, type SpoolResult } from './spooler.js';
import type { Transport } from './transport.js';

export interface ShipOptions {
  /** Each sink: a name for messages and the transport's argv. */
  destinations: { name: string; argv: string[] }[];
  /** Follow this journal (input never ends; stop() ends ship). */
  from?: string;
  /** Spool stdin here (kept across runs: a restarted ship delivers what it holds first). */
  spool?: string;
  /** The input when not following a journal (stdin's record batches). */
  input?: AsyncIterable<StreamRecord[]>;
  codec: 'zstd' | 'gzip' | 'none';
  pace?: (source: Readable) => Readable;
  ackTimeoutMs: number;
  retryForMs?: number;
  /** Never trim the journal or spool. */
  keep?: boolean;
  segmentBytes?: number;
  log: (line: string) => void;
  spawn?: (argv: string[]) => Transport;
  /** Sees sessions, bytes, acks and states (stats, progress). */
  observer?: ShipObserver;
}

/** What ship did; the command turns it into stats and an exit status. */
export interface ShipResult {
  destinations: Destination[];
  spooled?: SpoolResult;
  /** The spool dir was ship's own temporary one and was kept (something was not delivered). */
  keptTemp?: string;
}

/** A running ship: `done` settles when everything is delivered (or on a fatal error); stop() ends it early. */
export interface Shipping {
  done: Promise<ShipResult>;
  destinations: Destination[];
  /** First call: stop taking input; deliver what was fully taken if the spool is ship's own, else stop after a grace. Second: stop now. */
  stop(): void;
}

const STOP_GRACE_MS = 2000;

/** Starts shipping; see Shipping. */
export function startShip(o: ShipOptions): Shipping {
  const temp = o.from === undefined && o.spool === undefined ? mkdtempSync(join(tmpdir(), 'rill-ship-')) : undefined;
  const dir = o.from ?? o.spool ?? temp!;
  /** undefined while input may come; null: it ended without events; else its last event. */
  let inputEnd: Position | null | undefined;
  let stopping = 0;
  let stopInput = false;
  let inputComplete = false;
  let abandonInput!: () => void;
  const inputStopped = new Promise<void>((r) => (abandonInput = r));
  const stopAll = (): void => destinations.forEach((d) => d.stop());
  // Stdin's spool is written here: its writer wakes the sessions' readers (no polling delay).
  const waker = o.from === undefined ? new Waker() : undefined;
  const destinations = o.destinations.map(
    (d) =>
      new Destination(
        d.name,
        d.argv,
        { journal: dir, waker, codec: o.codec, pace: o.pace, ackTimeoutMs: o.ackTimeoutMs, retryForMs: o.retryForMs, inputEnd: () => inputEnd, spawn: o.spawn, observer: o.observer },
        { onAck: () => scheduleTrim(), onLog: o.log },
      ),
  );

  let trimming: Promise<unknown> | undefined;
  let trimAgain = false;
  const scheduleTrim = (): void => {
    if (o.keep) return;
    if (trimming !== undefined) {
      trimAgain = true;
      return;
    }
    const through = slowest(destinations);
    if (through === undefined) return;
    trimming = trimJournal(dir, through)
      .catch((err: unknown) => o.log(`warning: cannot trim ${dir}: ${(err as Error).message}`))
      .finally(() => {
        trimming = undefined;
        if (trimAgain) {
          trimAgain = false;
          scheduleTrim();
        }
      });
  };

  const done = (async (): Promise<ShipResult> => {
    const result: ShipResult = { destinations };
    let writer: JournalWriter | undefined;
    let spooling: Promise<void> = Promise.resolve();
    if (o.from === undefined) {
      writer = await JournalWriter.open(dir, { segmentBytes: o.segmentBytes, onWritten: () => waker?.wake(), onWarning: (m) => o.log(`warning: ${m}`) });
      const spooled = spoolInput(writer, o.input ?? emptyInput(), () => stopInput).then(async (r) => {
        result.spooled = r;
        inputComplete = r.complete;
        if (r.complete) inputEnd = (await journalEnd(dir)) ?? null;
        else stopAll(); // stopped inside a stream: its producer did not finish and sends it again
        waker?.wake();
      });
      // A stop does not wait for stdin's next bytes.
      spooling = Promise.race([spooled, inputStopped]);
    }
    const failures: unknown[] = [];
    try {
      const runs = destinations.map((d) =>
        d.run().catch((err: unknown) => {
          failures.push(err);
        }),
      );
      await spooling.catch((err: unknown) => {
        failures.push(err);
        stopAll();
      });
      await Promise.all(runs);
      await trimming;
    } finally {
      await writer?.close();
    }
    const delivered = failures.length === 0 && destinations.every((d) => d.status === 'done');
    // Everything acknowledged and the writer gone: the spool's last segment goes too.
    const through = slowest(destinations);
    if (delivered && !o.keep && o.from === undefined && through !== undefined) await trimJournal(dir, through, { withLast: true });
    if (temp !== undefined) {
      if (delivered) rmSync(temp, { recursive: true, force: true });
      else if (result.spooled?.complete === true && result.spooled.events > 0) {
        result.keptTemp = temp;
        o.log(`what was read and not delivered is kept in ${temp}: deliver it with rill ship --spool ${temp} -- CMD < /dev/null`);
      } else rmSync(temp, { recursive: true, force: true });
    }
    if (failures.length > 0) throw failures[0];
    return result;
  })();

  return {
    done,
    destinations,
    stop() {
      stopping++;
      stopInput = true;
      abandonInput();
      if (stopping > 1) stopAll();
      // Input read whole into ship's own spool is delivered (its producer is done with it);
      // otherwise the spool or journal keeps it: acks in flight get a moment, then the sessions end.
      else if (!(temp !== undefined && inputComplete)) setTimeout(stopAll, STOP_GRACE_MS).unref();
    },
  };
}

/** The least advanced acknowledged position, when every destination has one of the same source. */
function slowest(ds: Destination[]): Position | undefined {
  let min: Position | undefined;
  for (const d of ds) {
    if (d.acked === undefined) return undefined;
    if (min === undefined) min = d.acked;
    else if (min.source !== d.acked.source) return undefined;
    else if (d.acked.seq < min.seq) min = d.acked;
  }
  return min;
}

async function* emptyInput(): AsyncGenerator<StreamRecord[]> {}

/** A usage error for ship's flags (kept here so the command stays thin). */
export function shipUsage(message: string): RillError {
  return new RillError('usage', message);
}
