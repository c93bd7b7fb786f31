// Bookmarks put into a passing stream (rill bookmark NAME, rill freeze --bookmark ... -- CMD). A
// filter cannot number a new record: seqs belong to the source, and the next change set of that
// source goes on from the last one. So a bookmark takes the place of a commit, keeping its seq and
// time: both are transaction boundaries, and replay treats a bookmark as a commit with a name.
// Which commit: the last one of the input (after it only notes and assertions, which change
// nothing), or with `every`, the first one after each period.
import { RillError } from '../errors.js';
import type { BookmarkEvent, CommitEvent, StreamRecord } from '../stream/events.js';

export interface InsertOptions {
  name: string;
  /** The source was quiescent at the point (freeze made it so), or the caller vouches for it. */
  consistent: boolean;
  /** Mark the first commit after every this many ms (from the start) instead of the last commit of the input. */
  everyMs?: number;
  /** The wall time the bookmark records (default: now). */
  wall?: () => bigint;
  /** A final commit not followed by its stream's end within this many ms is let go (a live stream must not stall; default 500). */
  holdMs?: number;
  /** Called for each bookmark put in. */
  onBookmark?: (b: BookmarkEvent) => void;
}

/** Records that change nothing in a tree: a bookmark may stand before them and still be "the end". */
const NEUTRAL = new Set(['note', 'assert']);
/** A final commit waits with at most this many records behind it. */
const HOLD_LIMIT = 1024;

export function nowNs(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}

function toBookmark(c: CommitEvent, o: InsertOptions): BookmarkEvent {
  const b: BookmarkEvent = { type: 'bookmark', seq: c.seq, name: o.name, wall: (o.wall ?? nowNs)(), consistent: o.consistent };
  if (c.time !== undefined) b.time = c.time;
  o.onBookmark?.(b);
  return b;
}

/** A record kept across a request for the next batch (its buffers would be reused). */
function keep(r: StreamRecord): StreamRecord {
  return r.type === 'assert' ? { ...r, hash: Buffer.from(r.hash) } : r;
}

/**
 * Passes batches through with bookmarks in place of commits (see the top of this file). Throws a
 * stream error at the end when the input gave no commit to mark. Buffers keep the validity the
 * input gives them, except those held back (copied).
 */
export async function* insertBookmarks(input: AsyncIterable<StreamRecord[]>, o: InsertOptions): AsyncGenerator<StreamRecord[]> {
  if (o.everyMs !== undefined) return yield* periodic(input, o, o.everyMs);
  const holdMs = o.holdMs ?? 500;
  let held: StreamRecord[] = []; // [final commit candidate, neutral records..., end?]
  let ended = false; // held holds its stream's end record
  let marked = false;
  const it = input[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      let r: IteratorResult<StreamRecord[]>;
      if (held.length > 0 && !ended) {
        // A live stream: let the commit go if its end does not follow soon.
        let timer: NodeJS.Timeout | undefined;
        const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), holdMs)));
        const got = await Promise.race([next, late]);
        clearTimeout(timer);
        if (got === 'late') {
          yield held;
          held = [];
          continue;
        }
        r = got;
      } else {
        r = await next;
      }
      if (r.done === true) break;
      const out: StreamRecord[] = [];
      for (const rec of r.value) {
        if (rec.type === 'commit') {
          out.push(...held);
          held = [rec];
          ended = false;
        } else if (held.length > 0 && !ended && (NEUTRAL.has(rec.type) || rec.type === 'end')) {
          held.push(keep(rec));
          if (rec.type === 'end') ended = true;
          else if (held.length > HOLD_LIMIT) {
            out.push(...held);
            held = [];
          }
        } else {
          // A header after a held end: that stream was not the last. Anything else: the commit was not final.
          out.push(...held, rec);
          held = [];
          ended = false;
        }
      }
      // Records still in `out` are yielded before the next batch is requested: their buffers hold.
      if (out.length > 0) yield out;
      next = it.next();
    }
    if (held.length > 0) {
      held[0] = toBookmark(held[0] as CommitEvent, o);
      marked = true;
      yield held;
    }
  } finally {
    await it.return?.();
  }
  if (!marked) {
    throw new RillError('stream', `no place for bookmark ${JSON.stringify(o.name)}: the input does not end with a commit (a bookmark takes the place of the last commit, since a filter cannot number a new record of the source)`, {
      hint: "give a stream from rill capture (it ends with a commit), or use 'rill bookmark --control SOCK' with a running capture --mount",
    });
  }
}

async function* periodic(input: AsyncIterable<StreamRecord[]>, o: InsertOptions, everyMs: number): AsyncGenerator<StreamRecord[]> {
  let due = performance.now() + everyMs;
  for await (const batch of input) {
    let out = batch;
    for (let i = 0; i < batch.length; i++) {
      const rec = batch[i]!;
      if (rec.type !== 'commit' || performance.now() < due) continue;
      if (out === batch) out = batch.slice();
      out[i] = toBookmark(rec, o);
      while (due <= performance.now()) due += everyMs;
    }
    yield out;
  }
}
