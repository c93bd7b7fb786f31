// One segment's records for a reader, as they are there and (following) as they come: at the end of
// the data it waits, polling, for more frames or for the next segment to appear; the writer ends a
// segment before it creates the next, so a segment that has a successor but no end record is read
// again once and is then an error. A frame only partly written yet is never taken (segment-reader.ts).
import { open } from 'node:fs/promises';
import { RillError, ioError } from '../errors.js';
import type { StreamRecord } from '../stream/events.js';
import type { Segment } from './names.js';
import { SegmentReader } from './segment-reader.js';
import type { Waker } from './waker.js';

/** What reading a segment needs from the journal reader. */
export interface TailContext {
  /** Wait for more at the end of the data (evaluated each time the end is reached). */
  follow: () => boolean;
  pollMs: number;
  signal?: AbortSignal;
  /** Wakes the wait at the end of the data early (the writer is in this process). */
  waker?: Waker;
  /** A segment after this one exists. */
  successor: () => Promise<boolean>;
}

/** Thrown when the segment was removed (trimmed) before it could be opened. */
export class SegmentGone extends Error {}

/** Why: resolves after ms (or at the waker's call), or at once when the signal aborts; false when aborted. */
export function pause(ms: number, signal: AbortSignal | undefined, waker?: Waker): Promise<boolean> {
  if (waker !== undefined) return waker.wait(ms, signal);
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve(!signal?.aborted);
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Why: the frames of one segment, each batch valid until the next is requested. Returns true when
 * the segment's end record was read; false when the data ended without it and the reader stops
 * there (not following, or aborted).
 */
export async function* readSegment(seg: Segment, ctx: TailContext): AsyncGenerator<StreamRecord[], boolean> {
  let fh;
  try {
    fh = await open(seg.path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new SegmentGone(seg.name);
    throw ioError('cannot open journal segment', seg.path, err);
  }
  try {
    const reader = new SegmentReader(fh.fd, seg.path);
    let ended = false;
    let reread = false;
    for (;;) {
      const step = await reader.next();
      if ('records' in step) {
        reread = false;
        if (step.records.at(-1)?.type === 'end') ended = true;
        yield step.records;
        continue;
      }
      if (ended) return true;
      if (await ctx.successor()) {
        if (reread) {
          throw new RillError('stream', `journal segment ${seg.name} ends without an end record${step.partial > 0 ? ` (in a frame cut short after ${step.partial} bytes)` : ''}, yet a later segment follows it`, {
            input: seg.path,
            offset: reader.offset,
            hint: 'a writer ends a segment before it starts the next: this one was damaged',
          });
        }
        reread = true;
        continue;
      }
      if (!ctx.follow()) return false;
      if (!(await pause(ctx.pollMs, ctx.signal, ctx.waker))) return false;
    }
  } finally {
    await fh.close();
  }
}
