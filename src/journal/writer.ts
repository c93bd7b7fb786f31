// The journal's one writer: streams in, segment files out (names.ts), each a complete rill stream.
// A new stream starts a new segment; a long one is split at event boundaries by size and age into
// parts (end{more}, then a continuation header: src/stream/join.ts). Frames are written with
// write(2) as they close (full, at a commit, at sync, or when the event loop turns), so a killed
// writer loses at most what it was given in its last synchronous burst; fsync at commits, at
// rotation, at the end of a stream and on sync() makes them survive power loss.
import { mkdir, open as openFile } from 'node:fs/promises';
import { RillError, ioError } from '../errors.js';
import { FORMAT_VERSION, MAGIC, type End, type Event, type Header } from '../stream/events.js';
import { nextPartHeader } from '../stream/join.js';
import { lastEventBefore } from './end.js';
import { lockJournal, type JournalLock } from './lock.js';
import { listSegments, type Segment } from './names.js';
import { SegmentOutput } from './output.js';
import type { Position } from './position.js';
import { recoverTail, type RecoveredTail } from './recover.js';

/** Why: segment sizes are a trade of file count against trim granularity; every field has a default. */
export interface JournalWriterOptions {
  /** Rotate to a new segment once one holds this many bytes (default 64 MiB). */
  segmentBytes?: number;
  /** Rotate to a new segment once one is this old, at the next event (default 10 minutes). */
  segmentAgeMs?: number;
  /** Close frames at this many bytes (default 256 KiB). */
  frameBytes?: number;
  /** Called after frames or a new segment went out (write(2)): wakes readers in this process. */
  onWritten?: () => void;
  /** What recovery cut or closed, for people (default: stderr). */
  onWarning?: (m: string) => void;
  /**
   * Called once when a write or fsync fails (ENOSPC, EIO), also when that happened off the caller's
   * call (a frame written when the event loop turned, an fsync): the writer is then unusable, every
   * later call throws the same error, and close() cuts the torn frame and ends the stream with end{more}.
   */
  onFailure?: (err: unknown) => void;
}

/** The stream being written. */
interface OpenStream {
  /** Header of its current part (of the part to be created, before its first event). */
  header: Header;
  /** seq of its last event over all parts, -1 before any. */
  lastSeq: number;
}

/** The last stream in the files, when none is open. */
interface LastStream {
  header: Header;
  end: End;
}

/** Why: the one way into a journal directory; holds its lock from open to close. */
export class JournalWriter {
  private out: SegmentOutput | undefined;
  private stream: OpenStream | undefined;
  private last: LastStream | undefined;
  private nextNumber: number;
  /** seq of the last event in the journal, any source (-1: none): names a segment without events. */
  private lastSeqAny: number;
  /** Events appended, and how many of them were written out (frames) and fsynced. */
  private appended = 0;
  private writtenCount = 0;
  private written: Position | undefined;
  private durableCount = 0;
  private durablePos: Position | undefined;
  private failure: unknown;
  private closed = false;
  private idle: NodeJS.Immediate | undefined;
  /** The latest fsync asked for, and how many events had been appended then (sync() reuses it when none came since). */
  private lastFsync: { out: SegmentOutput; appended: number; done: Promise<void> } | undefined;
  private readonly closing: Promise<void>[] = [];
  private readonly segmentBytes: number;
  private readonly segmentAgeMs: number;

  private constructor(
    private readonly dir: string,
    private readonly lock: JournalLock,
    private readonly options: JournalWriterOptions,
    state: { nextNumber: number; last: LastStream | undefined; durable: Position | undefined },
  ) {
    this.segmentBytes = options.segmentBytes ?? 64 * 1024 * 1024;
    this.segmentAgeMs = options.segmentAgeMs ?? 10 * 60 * 1000;
    this.nextNumber = state.nextNumber;
    this.last = state.last;
    this.durablePos = this.written = state.durable;
    this.lastSeqAny = state.durable?.seq ?? -1;
  }

  /** Creates DIR if needed, takes its lock (kind 'busy' if held), and recovers a torn tail. */
  static async open(dir: string, options: JournalWriterOptions = {}): Promise<JournalWriter> {
    try {
      await mkdir(dir, { recursive: true });
    } catch (err) {
      throw ioError('cannot create the journal directory', dir, err);
    }
    const lock = lockJournal(dir);
    try {
      const warn = options.onWarning ?? ((m: string) => process.stderr.write(`rill: warning: ${m}\n`));
      const segments = await listSegments(dir);
      let tail: RecoveredTail | undefined;
      while (segments.length > 0) {
        tail = await recoverTail(dir, segments.at(-1)!, warn);
        if (tail.header !== undefined) break;
        segments.pop();
      }
      const lastSeg = segments.at(-1);
      if (lastSeg !== undefined) await fsyncFile(lastSeg.path); // a killed writer's last frames
      const last = tail?.header !== undefined && tail.end !== undefined ? { header: tail.header, end: tail.end } : undefined;
      const durable = await lastEvent(segments, tail);
      return new JournalWriter(dir, lock, options, { nextNumber: (lastSeg?.number ?? 0) + 1, last, durable });
    } catch (err) {
      lock.release();
      throw err;
    }
  }

  /** The error a write or fsync failed with (the writer is then unusable), undefined while it works. */
  get failed(): unknown {
    return this.failure;
  }

  /** Last event durably held: from the segments on open, then updated by every fsync (sync(), commits, rotation). undefined = empty journal. */
  get durable(): Position | undefined {
    return this.durablePos;
  }

  /**
   * Header of the last stream in the journal (of its latest part: part > 0 when it was split), open
   * or not, so a sink can tell a resumed stream (same source and created) from a new one.
   */
  get lastHeader(): Header | undefined {
    return this.stream?.header ?? this.last?.header;
  }

  /** The last stream ended with a plain end record (true), is open or was cut (false); undefined: no stream. */
  get lastEnded(): boolean | undefined {
    if (this.stream !== undefined) return false;
    return this.last === undefined ? undefined : this.last.end.more !== true;
  }

  /**
   * A new stream. A stream with the same source and created as the last one, when that was cut
   * (end.more), continues it as its next part; the same as the open one, goes on with it. Any other
   * header cuts an open stream (end{more}) and starts a stream of its own, in a new segment once its
   * first event comes (or at its end).
   */
  beginStream(h: Header): void {
    this.usable();
    const open = this.stream;
    if (open !== undefined) {
      if (sameStream(open.header, h)) return;
      if (this.out !== undefined) this.finishPart(true);
      this.stream = undefined;
    }
    const last = this.last;
    if (last !== undefined && last.end.more === true && sameStream(last.header, h)) {
      this.stream = { header: nextPartHeader(last.header, last.end), lastSeq: last.end.lastSeq ?? last.header.base ?? -1 };
    } else {
      this.stream = { header: { ...h, magic: MAGIC, version: FORMAT_VERSION }, lastSeq: -1 };
    }
  }

  /**
   * Writes an event of the open stream: in the pending frame, written out when the frame fills, at a
   * commit (then fsynced) or when the event loop turns. Nothing of the event (its buffers) is kept
   * after the call returns: the caller may reuse them.
   */
  append(e: Event): void {
    this.usable();
    const s = this.stream;
    if (s === undefined) throw new RillError('stream', `event seq ${e.seq} (${e.type}) before any stream was begun (beginStream)`);
    if (!(e.seq > s.lastSeq)) throw new RillError('stream', `event seq ${e.seq} (${e.type}) does not follow seq ${s.lastSeq} of its stream: seq must increase`);
    try {
      if (this.out === undefined) this.create(e.seq);
      else if (this.rotationDue()) this.rotate(e.seq);
      s.lastSeq = e.seq;
      this.lastSeqAny = e.seq;
      this.appended++;
      this.out!.append(e);
    } catch (err) {
      throw this.fail(err);
    }
    if (e.type === 'commit' || e.type === 'bookmark') {
      // A commit point (replay records progress and acks at both): written and fsynced at once.
      this.flushNow();
      this.fsyncLater().catch(() => undefined); // a failure is kept: the next call throws it
    } else if (this.idle === undefined) {
      this.idle = setImmediate(() => {
        this.idle = undefined;
        try {
          if (!this.closed && this.failure === undefined) this.flushNow();
        } catch {
          // kept in this.failure and told to onFailure: the next call throws it (never an uncaught exception)
        }
      });
    }
  }

  /** Ends the open stream with a plain end record, fsynced. */
  endStream(): void {
    this.usable();
    if (this.stream === undefined) throw new RillError('stream', 'endStream without an open stream (beginStream first)');
    try {
      if (this.out === undefined) this.create(this.lastSeqAny + 1); // a stream without events
      this.finishPart(false);
    } catch (err) {
      throw this.fail(err);
    }
    this.stream = undefined;
  }

  /** Writes the pending frame, fsyncs, and returns the durable position. */
  async sync(): Promise<Position | undefined> {
    this.usable();
    const last = this.lastFsync;
    if (last !== undefined && last.out === this.out && last.appended === this.appended) {
      // nothing appended since the fsync a commit asked for: that one covers this call too
      await last.done;
    } else if (this.out !== undefined) {
      this.flushNow();
      await this.fsyncLater();
    }
    this.usable();
    return this.durablePos;
  }

  /**
   * Writes what is pending, fsyncs, closes the files and releases the lock. Ends nothing: an open
   * stream stays open (the next open closes it with end{more}) unless endStream was called.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    if (this.idle !== undefined) clearImmediate(this.idle);
    const failed = this.failure !== undefined ? this.out?.segment : undefined;
    try {
      if (this.out !== undefined && this.failure === undefined) {
        this.flushNow();
        await this.fsyncLater();
      }
    } finally {
      this.closed = true;
      if (this.out !== undefined) this.closing.push(this.out.close());
      this.out = undefined;
      await Promise.allSettled(this.closing);
      const warn = this.options.onWarning ?? ((m: string) => process.stderr.write(`rill: warning: ${m}\n`));
      try {
        // a failed write may have left half a frame: make the segment a readable stream now (as the next open would)
        if (failed !== undefined) await recoverTail(this.dir, failed, warn);
      } catch (err) {
        warn(`${(err as Error).message}: the next writer to open the journal recovers it`);
      } finally {
        this.lock.release();
      }
    }
  }

  private usable(): void {
    if (this.closed) throw new Error('internal: the journal writer is closed');
    if (this.failure !== undefined) throw this.failure;
  }

  /** A write or fsync failed: the segment may hold a partial frame, so the writer stops here. */
  private fail(err: unknown): unknown {
    if (this.failure === undefined) {
      this.failure = err;
      // told after the current call unwinds, so a caller that got the throw is not re-entered
      queueMicrotask(() => this.options.onFailure?.(err));
    }
    return err;
  }

  private flushNow(): void {
    try {
      this.out?.flush();
    } catch (err) {
      throw this.fail(err);
    }
  }

  private fsyncLater(): Promise<void> {
    const out = this.out!;
    const count = this.writtenCount;
    const pos = this.written;
    const done = out.fsyncer.request().then(
      () => this.advance(count, pos),
      (err: unknown) => {
        throw this.fail(err);
      },
    );
    // callers flush first: every event appended so far is in what this fsync covers
    this.lastFsync = { out, appended: this.appended, done };
    return done;
  }

  private advance(count: number, pos: Position | undefined): void {
    if (count < this.durableCount) return;
    this.durableCount = count;
    this.durablePos = pos;
  }

  private rotationDue(): boolean {
    const out = this.out!;
    return out.events > 0 && (out.bytes >= this.segmentBytes || Date.now() - out.opened >= this.segmentAgeMs);
  }

  /** Ends the current part with end{more} and starts the next one with the event of seq firstSeq. */
  private rotate(firstSeq: number): void {
    const end = this.finishPart(true);
    const s = this.stream!;
    s.header = nextPartHeader(s.header, end);
    this.create(firstSeq);
  }

  private create(firstSeq: number): void {
    const s = this.stream!;
    this.out = new SegmentOutput(this.dir, this.nextNumber, firstSeq, s.header, this.options.frameBytes, (lastSeq) => {
      this.writtenCount = this.appended; // a frame goes out with every event appended before it
      if (lastSeq >= 0) this.written = { source: s.header.source, seq: lastSeq };
      this.options.onWritten?.();
    });
    this.nextNumber++;
    this.options.onWritten?.();
  }

  /** Ends the segment being written (fsynced), which then holds the last stream of the files. */
  private finishPart(more: boolean): End {
    const out = this.out!;
    const end = out.end(more);
    this.advance(this.writtenCount, this.written);
    this.last = { header: out.header, end };
    this.out = undefined;
    this.closing.push(out.close());
    this.options.onWritten?.();
    return end;
  }
}

function sameStream(a: Header, b: Header): boolean {
  return a.source === b.source && a.created === b.created;
}

async function fsyncFile(path: string): Promise<void> {
  try {
    const fh = await openFile(path, 'r');
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw ioError('cannot fsync journal segment', path, err);
  }
}

/** The last event in the segments: the recovered tail's, else the end record of an earlier segment that has events. */
async function lastEvent(segments: Segment[], tail: RecoveredTail | undefined): Promise<Position | undefined> {
  if (tail?.header !== undefined && tail.lastSeq >= 0) return { source: tail.header.source, seq: tail.lastSeq };
  return lastEventBefore(segments, segments.length - 1);
}
