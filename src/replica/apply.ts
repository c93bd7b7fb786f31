// The replay engine: records in, in order, to the handler table (or the dry-run table); progress is
// recorded at commits and ends, and on any error nothing half-made is left exposed.
import { once } from 'node:events';
import { resolve } from 'node:path';
import { RillError, ioError } from '../errors.js';
import { dispatch, type Event, type Header, type StreamRecord } from '../stream/events.js';
import { checkEventPaths, describeHandlers } from './dry-run.js';
import { applyHandlers } from './handlers.js';
import { appliedFrom, checkHeader, type Applied } from './lineage.js';
import { peekMark } from './progress.js';
import { Replica, type ApplyOptions, type ApplyStats } from './replica.js';
import { prepareRoot, readState } from './state.js';

/** One way of consuming records: really (Replica) or as a dry run. */
interface Target {
  readonly stats: ApplyStats;
  /** Checks that the stream fits the replica; returns the seq through which it was applied before. */
  header(h: Header): number;
  /** An event applied before (at or below the header's seq): skipped. */
  skip(e: Event): void;
  /** May return a promise (a dry run waiting for stdout to drain). */
  event(e: Event): void | Promise<void>;
  /** more: the stream goes on in a part this input lacks (end.more), so a full stream's final sweep is not done. */
  end(lastSeq: number, more: boolean): void;
  abort(): void;
  close(): void;
}

/**
 * Applies records (one or more concatenated streams) to the replica at root. Each header is checked
 * against what the replica applied (its source, a change set's base); events of its source at or
 * below the seq recorded in ROOT/.rill/state.json, or in the mark of a replay that stopped between
 * commits, were applied before and are skipped. Takes records one by one or a frame's batch at a time
 * (readBatches: far fewer async steps).
 */
export async function applyRecords(records: AsyncIterable<StreamRecord | StreamRecord[]>, root: string, options: ApplyOptions = {}): Promise<ApplyStats> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`rill replay: ${line}\n`));
  let made: Target | undefined;
  /** The replica is prepared (ROOT created) only when a first good record arrives. */
  const target = (): Target => {
    if (made !== undefined) return made;
    made = options.dryRun ? dryTarget(root, options, log) : realTarget(new Replica(prepareRoot(root), { ...options, log }));
    return made;
  };
  let source = '';
  let open = false; // inside a stream: events seen since the last end record
  let lastSeq: number | undefined;
  let skipped = 0;
  let skipThrough = -1; // events of this source up to this seq were applied before
  try {
    for await (const item of records) {
      for (const rec of Array.isArray(item) ? item : [item]) {
        const t = target();
        if (rec.type === 'header') {
          source = rec.source;
          open = true;
          lastSeq = undefined;
          skipThrough = t.header(rec);
        } else if (rec.type === 'end') {
          const done = Math.max(rec.lastSeq ?? lastSeq ?? -1, skipThrough);
          t.end(done < 0 ? 0 : done, rec.more === true);
          if (skipped > 0) log(`skipped ${skipped} events already applied (source ${source}, seq <= ${skipThrough}, per ${root}/.rill)`);
          t.stats.skipped += skipped;
          skipped = 0;
          open = false;
        } else {
          open = true;
          lastSeq = rec.seq;
          if (rec.seq <= skipThrough) {
            skipped++;
            t.skip(rec);
          } else {
            const wait = t.event(rec);
            if (wait !== undefined) await wait;
          }
        }
      }
    }
    if (open && options.stoppedEarly?.() !== true) throw new RillError('stream', 'the stream ended without an end record (truncated?); nothing after its last commit was finalized');
  } catch (err) {
    made?.abort();
    throw err;
  } finally {
    made?.close();
  }
  const stats = made?.stats ?? { events: 0, files: 0, bytes: 0, skipped: 0, seconds: 0 };
  stats.seconds = (performance.now() - started) / 1000;
  return stats;
}

function realTarget(r: Replica): Target {
  return {
    stats: r.stats,
    header: (h) => r.header(h),
    skip(e) {
      try {
        r.full?.observe(e);
      } catch (err) {
        throw wrap(e, err);
      }
    },
    event(e) {
      r.stats.events++;
      try {
        r.settle(e);
        r.full?.before(e);
        dispatch(applyHandlers, e, r);
        r.did(e);
      } catch (err) {
        throw wrap(e, err);
      }
    },
    end: (lastSeq, more) => r.end(lastSeq, more),
    abort: () => r.abort(),
    close: () => r.close(),
  };
}

function dryTarget(root: string, options: ApplyOptions, log: (line: string) => void): Target {
  const ctx = { applyOwner: options.owner ?? process.geteuid?.() === 0 };
  // Reading is allowed: a dry run changes nothing.
  const state = readState(resolve(root));
  let applied: Applied | undefined = appliedFrom(state, peekMark(resolve(root), state));
  let source = '';
  const print = options.print ?? printLine;
  const stats: ApplyStats = { events: 0, files: 0, bytes: 0, skipped: 0, seconds: 0 };
  return {
    stats,
    header(h) {
      source = h.source;
      return checkHeader(h, applied, options.force ?? false, root);
    },
    skip() {},
    event(e) {
      stats.events++;
      if (e.type === 'create') stats.files++;
      if (e.type === 'write') stats.bytes += e.data.length;
      if (e.type === 'note' && options.verbose) log(`note ${e.code}: ${e.message}`);
      checkEventPaths(e);
      const line = dispatch(describeHandlers, e, ctx);
      return line === undefined ? undefined : print(line);
    },
    end(lastSeq) {
      applied = { source, seq: lastSeq }; // as if applied: a change set that follows in the input fits
    },
    abort() {},
    close() {},
  };
}

/** Writes a line to stdout, waiting when the pipe is full (memory stays bounded). */
function printLine(line: string): Promise<void> | void {
  if (!process.stdout.write(`${line}\n`)) return once(process.stdout, 'drain').then(() => undefined);
}

/** A failed system call becomes an io error naming the event's path; rill's own errors pass through. */
function wrap(e: Event, err: unknown): RillError {
  if (err instanceof RillError) return err;
  const path = 'path' in e && typeof e.path === 'string' ? e.path : '';
  return ioError(e.type, path, err);
}
