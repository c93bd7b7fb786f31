// Bookmarks while replaying (replay --until, --on-bookmark): a pass-through of the record batches
// between the input and the apply engine (tree or volume alike). The engine applies a batch whole
// before it asks for the next, and applies a bookmark as a commit (everything before it complete,
// progress recorded), so when the next batch is asked for after a bookmark, the replica is at it.
// There this module runs the hook, or stops the input right after the bookmark.
import { RillError } from '../errors.js';
import type { BookmarkEvent, StreamRecord } from '../stream/events.js';

/** Which bookmark --until stops at: the first of that name, or (--last) the one at source/seq. */
export interface UntilTarget {
  name: string;
  at?: { source: string; seq: number };
}

export interface BookmarkOptions {
  until?: UntilTarget;
  /** Runs after the replica reached the bookmark (data made durable by `durable` first). */
  onBookmark?: (b: BookmarkEvent, source: string) => Promise<void>;
  /** The hook runs at every bookmark, not only consistent ones. */
  allBookmarks?: boolean;
  /** What the replica held when the replay started: bookmarks at or below it are not applied again. */
  applied?: { source: string; seq: number };
  /** Makes the replica's data durable (syncfs) before a hook runs or the replay stops at --until. */
  durable?: () => void;
}

/** Records that change nothing in a tree: after the --until bookmark they are still applied, up to the end record. */
const NEUTRAL = new Set(['note', 'assert', 'commit', 'bookmark']);

/** Outcome of a replay with bookmarks, read after the engine returned. */
export class BookmarkWatch {
  /** The --until bookmark was reached (the replica is at it). */
  reached: BookmarkEvent | undefined;
  /** The input was cut after the --until bookmark (the engine must not take it for a truncation). */
  stopped = false;
  /** Names of bookmarks seen (for "not found" messages), at most 20. */
  readonly seen: string[] = [];
  private source = '';
  private full = false;

  constructor(private readonly o: BookmarkOptions) {}

  /** The pass-through; see the top of the file. */
  async *filter(input: AsyncIterable<StreamRecord[] | StreamRecord>): AsyncGenerator<StreamRecord[]> {
    let past: BookmarkEvent | undefined; // --until bookmark found among events applied before this run
    for await (const item of input) {
      const batch = Array.isArray(item) ? item : [item];
      let from = 0;
      for (let i = 0; i < batch.length; i++) {
        const rec = batch[i]!;
        if (rec.type === 'header') {
          this.source = rec.source;
          this.full = rec.full === true;
          continue;
        }
        if (rec.type === 'end') continue;
        const before = this.appliedBefore(rec.seq);
        if (past !== undefined) {
          if (!before) {
            // The replica is exactly at the bookmark: nothing to do.
            this.reached = past;
            this.stopped = true;
            if (i > from) yield batch.slice(from, i);
            return;
          }
          if (!NEUTRAL.has(rec.type)) throw pastError(past, this.o.applied!.seq);
          continue;
        }
        if (rec.type !== 'bookmark') continue;
        this.note(rec.name);
        const isTarget = this.isTarget(rec);
        if (before) {
          if (isTarget) past = rec;
          continue;
        }
        const hook = this.o.onBookmark !== undefined && (rec.consistent || this.o.allBookmarks === true);
        if (!isTarget && !hook) continue;
        // Hand over everything up to the bookmark; when the next batch is asked for, it is applied.
        yield batch.slice(from, i + 1);
        from = i + 1;
        this.o.durable?.();
        if (hook) await this.o.onBookmark!(rec, this.source);
        if (isTarget) {
          this.reached = rec;
          yield* this.tail(batch.slice(from), input);
          this.stopped = true;
          return;
        }
      }
      if (from < batch.length) yield from === 0 ? batch : batch.slice(from);
    }
    if (past !== undefined) this.reached = past;
  }

  /**
   * After the --until bookmark: what changes nothing and is at hand (or, inside a full stream whose
   * final sweep is still owed, what comes) is applied, up to and with the stream's end record.
   */
  private async *tail(rest: StreamRecord[], input: AsyncIterable<StreamRecord[] | StreamRecord>): AsyncGenerator<StreamRecord[]> {
    let batch = rest;
    const it = this.full ? input[Symbol.asyncIterator]() : undefined;
    for (;;) {
      const take: StreamRecord[] = [];
      for (const rec of batch) {
        if (rec.type === 'end') {
          take.push(rec);
          if (take.length > 0) yield take;
          return;
        }
        if (rec.type === 'header' || !NEUTRAL.has(rec.type)) {
          if (take.length > 0) yield take;
          return;
        }
        take.push(rec);
      }
      if (take.length > 0) yield take;
      if (it === undefined) return;
      const r = await it.next();
      if (r.done === true) return;
      batch = Array.isArray(r.value) ? r.value : [r.value];
    }
  }

  private appliedBefore(seq: number): boolean {
    const a = this.o.applied;
    return a !== undefined && a.source === this.source && seq <= a.seq;
  }

  private isTarget(b: BookmarkEvent): boolean {
    const u = this.o.until;
    if (u === undefined || this.reached !== undefined) return false;
    if (u.at !== undefined) return u.at.source === this.source && u.at.seq === b.seq;
    return b.name === u.name;
  }

  private note(name: string): void {
    if (this.seen.length < 20 && !this.seen.includes(name)) this.seen.push(name);
  }
}

function pastError(b: BookmarkEvent, appliedSeq: number): RillError {
  return new RillError('mismatch', `the replica is past bookmark ${JSON.stringify(b.name)} (seq ${b.seq}): it holds the source through seq ${appliedSeq}, and replay does not go back`, {
    hint: 'restore from a snapshot or replica taken at the bookmark (replay --on-bookmark can take one at each), or replay into an empty directory',
  });
}

/** Finds the last bookmark named name in an input (for --until NAME --last): its source and seq. */
export async function lastBookmark(input: AsyncIterable<StreamRecord[]>, name: string): Promise<{ source: string; seq: number } | undefined> {
  let source = '';
  let found: { source: string; seq: number } | undefined;
  for await (const batch of input) {
    for (const rec of batch) {
      if (rec.type === 'header') source = rec.source;
      else if (rec.type === 'bookmark' && rec.name === name) found = { source, seq: rec.seq };
    }
  }
  return found;
}
