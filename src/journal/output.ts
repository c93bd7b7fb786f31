// The segment file a JournalWriter is writing: created with O_EXCL, its stream's signature and header
// written at once in a frame of their own (readers find a segment's source from that frame alone),
// then frames with write(2) as the framer closes them; its end record goes in a frame of its own too.
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { ioError } from '../errors.js';
import type { End, Event, Header } from '../stream/events.js';
import { StreamFramer } from '../stream/framer.js';
import { segmentName, type Segment } from './names.js';
import { Fsyncer, fsyncDir, writeAllAt } from './sync.js';

/** Why: one part of a stream in one file, and what the writer needs to know about it. */
export class SegmentOutput {
  readonly segment: Segment;
  readonly fsyncer: Fsyncer;
  readonly opened = Date.now();
  /** Bytes in the file. */
  size = 0;
  /** Events written (or waiting in the frame). */
  events = 0;
  private readonly framer: StreamFramer;
  private readonly fd: number;

  constructor(
    dir: string,
    number: number,
    firstSeq: number,
    readonly header: Header,
    frameBytes: number | undefined,
    /** Called after each frame is written. */
    onFrame: (lastSeq: number) => void,
  ) {
    const name = segmentName(number, firstSeq);
    this.segment = { number, firstSeq, name, path: join(dir, name) };
    try {
      this.fd = openSync(this.segment.path, 'wx', 0o644);
    } catch (err) {
      throw ioError('cannot create journal segment', this.segment.path, err);
    }
    this.fsyncer = new Fsyncer(this.fd, this.segment.path);
    this.framer = new StreamFramer(
      (pieces) => {
        this.size = writeAllAt(this.fd, pieces, this.size, this.segment.path);
        onFrame(this.framer.lastSeq);
      },
      { frameBytes, transient: true },
    );
    this.framer.header(header);
    this.framer.flush();
    fsyncDir(dir);
  }

  /** Bytes the segment holds once its pending frame is written. */
  get bytes(): number {
    return this.size + this.framer.pending;
  }

  append(e: Event): void {
    this.framer.event(e);
    this.events++;
  }

  /** Writes the pending frame, if any. */
  flush(): void {
    this.framer.flush();
  }

  /** Ends the part (more: it goes on in the next segment, or is cut) and fsyncs it; returns its end record. */
  end(more: boolean): End {
    this.framer.flush();
    const end = this.framer.end(more);
    this.fsyncNow();
    return end;
  }

  fsyncNow(): void {
    try {
      fsyncSync(this.fd);
    } catch (err) {
      throw ioError('cannot fsync journal segment', this.segment.path, err);
    }
  }

  /** Closes the file once no fsync of it is running. */
  async close(): Promise<void> {
    await this.fsyncer.idle();
    closeSync(this.fd);
  }
}
