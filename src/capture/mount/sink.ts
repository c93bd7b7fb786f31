// Where a mount capture's events go: the stream on stdout, or a journal directory. Backpressure:
// stdout's reader slows the layer's writers (nothing is buffered beyond the encoder's window); a
// journal absorbs a slow reader, and only past --journal-max do writers block until `rill ship`
// trims it. Never is an event dropped.
import { writeSync, writevSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Socket } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeTo } from '../../cli-encode.js';
import { drained } from '../emit.js';
import type { Event } from '../../stream/events.js';
import type { HeaderInit } from '../../stream/encode.js';
import { JournalWriter } from '../../journal/writer.js';
import { RillError } from '../../errors.js';
import { listSegments } from '../../journal/names.js';
import { arenaPiecesWritten } from './arena.js';

/** Takes events in order (a batch goes through the encoder's machinery once); returns a promise when the caller must wait before the next. */
export type Put = (events: Event[]) => Promise<void> | undefined;

export interface SinkOptions {
  /** Journal directory; undefined: stdout. */
  journal?: string;
  /** Block writers while the journal holds more than this many bytes. */
  journalMax?: number;
  /** What the journal says (recovered tails ...). */
  log: (line: string) => void;
  /** Called with true while writers are held back by --journal-max, false when released. */
  onFull?: (full: boolean) => void;
  /** True once the capture is stopping: the journal then takes what is left, over --journal-max. */
  stopping?: () => boolean;
  /**
   * Called once when the journal cannot take more records (ENOSPC, EIO), also when that is found off
   * a put (a frame written when the event loop turned, an fsync): stop taking changes at once.
   */
  onJournalFailure?: (err: RillError) => void;
  /** What a journal failure means for the user and what to do, added to its message. */
  journalFailureHint?: string;
}

/** Resolves once everything put so far is durable (the journal fsynced it); on stdout at once: what happens downstream is not ours to know. */
export type Synced = () => Promise<void>;

/** Runs `body` with a put function into the chosen output, then ends the stream (an end record). */
export async function withSink(o: SinkOptions, header: HeaderInit, body: (put: Put, synced: Synced) => Promise<void>): Promise<void> {
  if (o.journal === undefined) {
    await encodeTo(undefined, header, (encoder) =>
      body((events) => {
        if (encoder.destroyed) throw encoder.errored ?? new Error('the output closed before the stream was complete');
        return encoder.write(events.length === 1 ? events[0] : events) ? undefined : drained(encoder);
      }, () => Promise.resolve()),
      { via: coalescing },
    );
    return;
  }
  // segments small enough that trimming behind acks can bring the journal back under --journal-max
  const segmentBytes = o.journalMax === undefined ? undefined : Math.max(256 * 1024, Math.floor(o.journalMax / 4));
  const dir = o.journal;
  const failed = (err: unknown): RillError => {
    const inner = err instanceof RillError ? err.message : ((err as Error | undefined)?.message ?? String(err));
    return new RillError('io', `the journal ${dir} cannot take more records: ${inner}`, { path: dir, cause: err instanceof RillError ? (err.cause ?? err) : err, hint: o.journalFailureHint });
  };
  const w = await JournalWriter.open(dir, { segmentBytes, onWarning: (m) => o.log(`warning: ${m}`), onFailure: (err) => o.onJournalFailure?.(failed(err)) });
  try {
    w.beginStream({ type: 'header', magic: 'rill', version: 1, ...header });
    const gauge = o.journalMax === undefined ? undefined : new JournalGauge(o.journal, o.journalMax, o.onFull, o.stopping);
    await body((events) => {
      let bytes = 0;
      const data: Buffer[] = [];
      for (const e of events) {
        w.append(e);
        if (e.type === 'write') {
          bytes += e.data.length + 64;
          data.push(e.data);
        } else {
          bytes += 64;
        }
      }
      // the journal keeps nothing of an event once append returns: the record channel's arenas and
      // the payload ring's room read up to here are free (arena.ts, ring.ts)
      if (data.length > 0) arenaPiecesWritten(data);
      return gauge?.added(bytes);
    }, async () => void (await w.sync()));
    w.endStream();
    await w.sync();
  } catch (err) {
    // the journal's failure is the cause of whatever the body then ran into
    throw w.failed !== undefined ? failed(w.failed) : err;
  } finally {
    await w.close();
  }
}

/** Why: --journal-max: tracks the journal's size cheaply (estimates between measurements) and waits while it is over. */
class JournalGauge {
  private estimate = 0;
  private measuredAt = 0;

  constructor(
    private readonly dir: string,
    private readonly max: number,
    private readonly onFull?: (full: boolean) => void,
    private readonly stopping: () => boolean = () => false,
  ) {}

  added(bytes: number): Promise<void> | undefined {
    this.estimate += bytes;
    if (this.estimate <= this.max && Date.now() - this.measuredAt < 1000) return undefined;
    return this.settle();
  }

  private async settle(): Promise<void> {
    let size = await this.measure();
    if (size <= this.max) return;
    this.onFull?.(true);
    while (size > this.max && !this.stopping()) {
      await sleep(200);
      size = await this.measure();
    }
    this.onFull?.(false);
  }

  private async measure(): Promise<number> {
    let total = 0;
    for (const s of await listSegments(this.dir)) {
      try {
        total += (await stat(s.path)).size;
      } catch {
        // trimmed meanwhile
      }
    }
    this.estimate = total;
    this.measuredAt = Date.now();
    return total;
  }
}

/**
 * Why: the encoder hands out a frame as many pieces (heads, records, referenced payloads), and
 * stdout as a file or /dev/null writes each with its own write(2): per 4 KiB event that was two
 * system calls. This writes what one turn of the event loop produced together: the first piece
 * waits for the next turn, the pieces that come meanwhile are buffered by the stream and arrive
 * together in writev, which goes out as writev(2) calls on a file (no copy), or corked on a pipe
 * or socket (libuv's writev). Backpressure is the destination's.
 */
function coalescing(dest: Writable): Writable {
  const fd = (dest as unknown as { fd?: unknown }).fd;
  const file = !(dest instanceof Socket) && typeof fd === 'number' ? fd : undefined;
  const out = (chunks: Buffer[], cb: (err?: Error | null) => void): void => {
    if (file !== undefined) {
      try {
        writevAll(file, chunks);
      } catch (err) {
        return cb(err as Error);
      }
      arenaPiecesWritten(chunks);
      return cb();
    }
    let left = chunks.length;
    let failed: Error | null | undefined;
    if (left === 0) return cb();
    dest.cork();
    for (const c of chunks) {
      dest.write(c, (err) => {
        if (err) failed ??= err;
        if (--left > 0) return;
        if (!failed) arenaPiecesWritten(chunks);
        cb(failed);
      });
    }
    dest.uncork();
  };
  const sink = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      setImmediate(() => out([chunk], cb));
    },
    writev(chunks, cb) {
      out(chunks.map((c) => c.chunk as Buffer), cb);
    },
    final(cb) {
      if (dest === process.stdout) return cb();
      dest.end();
      dest.once('finish', () => cb());
    },
    destroy(err, cb) {
      if (err && dest !== process.stdout) dest.destroy(err);
      cb(err);
    },
  });
  dest.on('error', (err) => sink.destroy(err));
  return sink;
}

/** writev(2) of all the buffers to a (blocking) file descriptor, in groups under IOV_MAX, through short writes. */
function writevAll(fd: number, chunks: Buffer[]): void {
  for (let i = 0; i < chunks.length; ) {
    const group = chunks.slice(i, i + 1000);
    i += group.length;
    let total = 0;
    for (const c of group) total += c.length;
    let done = writevSync(fd, group);
    if (done === total) continue;
    // a short write: the rest one buffer at a time
    for (const c of group) {
      if (done >= c.length) {
        done -= c.length;
        continue;
      }
      let at = done;
      done = 0;
      while (at < c.length) at += writeSync(fd, c, at, c.length - at);
    }
  }
}
