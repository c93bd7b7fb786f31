// Reading a journal: its streams, parts joined, from the start or from a consumer's position, to its
// current end or (following) on as they are written, like tail -F.
import { RillError } from '../errors.js';
import type { StreamRecord } from '../stream/events.js';
import { joinParts } from '../stream/join.js';
import { listSegments, type Segment } from './names.js';
import type { Position } from './position.js';
import { findStart, resumeFilter } from './resume.js';
import { pause, readSegment, SegmentGone } from './tail.js';
import type { Waker } from './waker.js';

/** Why: where to start, and whether to wait at the end (all optional: the whole journal as it is now). */
export interface ReadJournalOptions {
  /** The consumer holds this event: resume after it (see findStart and resumeFilter). */
  after?: Position;
  /** At the end of the data, wait for more (a function: while it says so) until the signal aborts. */
  follow?: boolean | (() => boolean);
  /** How often to look for more while following (ms, default 50). */
  pollMs?: number;
  /** Ends the generator (while following, at once). */
  signal?: AbortSignal;
  /** The journal's writer runs in this process and calls this when it writes: no polling delay. */
  waker?: Waker;
  /** Resuming inside a full stream: also yield its events that name entries at or below after.seq. */
  fullPrefix?: boolean;
}

/**
 * Why: every consumer of a journal (ship, tests, tools) reads it one way. Yields the journal's
 * streams (header ... end, parts joined) as record batches, one per frame or less. Buffers inside
 * the records are valid until the next batch is requested (as with readBatches): copy what you
 * keep. Without follow it returns at the current end; a stream still being written (or cut and not
 * yet recovered) is yielded up to its last whole frame, without an end record. Segments removed
 * (trimmed) while the reader was behind them are a 'mismatch' error naming the missing seqs.
 */
export async function* readJournal(dir: string, options: ReadJournalOptions = {}): AsyncGenerator<StreamRecord[]> {
  const raw = segmentBatches(dir, options);
  const joined = joinParts(raw);
  yield* options.after === undefined ? joined : resumeFilter(joined, options.after, options.fullPrefix ?? false);
}

/** The records of the segments from the starting one on, parts not joined. */
async function* segmentBatches(dir: string, options: ReadJournalOptions): AsyncGenerator<StreamRecord[]> {
  const f = options.follow;
  const follow = typeof f === 'function' ? f : (): boolean => f === true;
  const pollMs = options.pollMs ?? 50;
  const signal = options.signal;
  const waker = options.waker;
  let segs = await listSegments(dir);
  while (segs.length === 0) {
    if (!follow() || !(await pause(pollMs, signal, waker))) return;
    segs = await listSegments(dir);
  }
  let number = options.after === undefined ? segs[0]!.number : await findStart(dir, segs, options.after);
  let seen: Position | undefined; // the last event read
  let source = ''; // of the stream being read
  for (;;) {
    if (signal?.aborted) return;
    segs = await listSegments(dir);
    const seg = segs.find((s) => s.number === number);
    if (seg === undefined) {
      const later = segs.find((s) => s.number > number);
      if (later !== undefined) throw trimmed(dir, number, later, seen);
      if (!follow() || !(await pause(pollMs, signal, waker))) return;
      continue;
    }
    const successor = async (): Promise<boolean> => (await listSegments(dir)).some((s) => s.number > number);
    const it = readSegment(seg, { follow, pollMs, signal, successor, waker });
    let ended: boolean;
    try {
      for (;;) {
        const r = await it.next();
        if (r.done === true) {
          ended = r.value;
          break;
        }
        for (const rec of r.value) {
          if (rec.type === 'header') source = rec.source;
          else if (rec.type !== 'end') seen = { source, seq: rec.seq };
        }
        yield r.value;
      }
    } catch (err) {
      if (err instanceof SegmentGone) throw trimmed(dir, number, segs.find((s) => s.number > number), seen);
      throw err;
    } finally {
      await it.return?.(false);
    }
    if (!ended) return;
    number++;
  }
}

function trimmed(dir: string, number: number, later: Segment | undefined, seen: Position | undefined): RillError {
  const gap = seen !== undefined && later !== undefined && later.firstSeq > seen.seq + 1 ? ` (seq ${seen.seq + 1}..${later.firstSeq - 1})` : '';
  const from = seen === undefined ? 'the events it holds' : `the events after seq ${seen.seq} of source ${seen.source}${gap}`;
  const to = later === undefined ? '' : `; the journal goes on with segment ${later.name}`;
  return new RillError('mismatch', `journal ${dir}: segment ${String(number).padStart(8, '0')} was trimmed while this reader was behind: ${from} are missing${to}`, {
    hint: 'the journal was trimmed past this reader (another consumer acknowledged them): resume from a position the journal still holds, or send a full stream',
  });
}
