// Reads one segment file's frames at a moving end: positional reads into two buffers it reuses (like
// src/stream/reader.ts), parsed in place by the stream parser. At the end of the data it reports how
// many bytes of a frame were there and forgets them, so the next call reads them again from the
// file: a frame still being written, or a torn one that recovery replaced, is never half-taken.
import { read } from 'node:fs';
import { StreamParser } from '../stream/parser.js';
import type { StreamRecord } from '../stream/events.js';

const BUFFER_BYTES = 1024 * 1024;

/** What one call found: a frame's records, or the current end of the file. */
export type SegmentStep = { records: StreamRecord[] } | { eof: true; partial: number };

function readAt(fd: number, buf: Buffer, offset: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, offset, buf.length - offset, position, (err, n) => (err ? reject(err) : resolve(n))));
}

/** Why: the one frame loop of the journal, shared by recovery scans and (following) readers. */
export class SegmentReader {
  readonly parser: StreamParser;
  private buf: Buffer;
  private spare: Buffer;
  private start = 0;
  private end = 0;
  private need = 1;
  /** File offset of buf[start]: the bytes before it are consumed (whole frames). */
  private consumedAt = 0;

  constructor(
    private readonly fd: number,
    input: string,
    /** Size of each buffer (a larger frame gets a larger one); small to read only a header. */
    bufferBytes = BUFFER_BYTES,
  ) {
    this.parser = new StreamParser({ input });
    this.buf = Buffer.allocUnsafe(bufferBytes);
    this.spare = Buffer.allocUnsafe(bufferBytes);
  }

  /** File offset just after the last whole frame (or signature) taken. */
  get offset(): number {
    return this.consumedAt;
  }

  /**
   * The records of the next frame that has any, or the end of the data. Buffers inside the records
   * are valid until the call after next. Parse errors (corrupt frames) are thrown as the parser's.
   */
  async next(): Promise<SegmentStep> {
    for (;;) {
      while (this.end - this.start >= this.need) {
        const step = this.parser.step(this.buf.subarray(this.start, this.end));
        if ('need' in step) {
          this.need = step.need;
          break;
        }
        this.start += step.consumed;
        this.consumedAt += step.consumed;
        this.need = 1;
        if (step.records.length > 0) return { records: step.records };
      }
      if (this.start + this.need > this.buf.length || this.end === this.buf.length) {
        // The unparsed tail moves to the front of the other buffer; the records handed out from
        // this one were used by the consumer, which asked for more.
        if (this.spare.length < this.need) this.spare = Buffer.allocUnsafe(this.need);
        this.buf.copy(this.spare, 0, this.start, this.end);
        [this.buf, this.spare] = [this.spare, this.buf];
        this.end -= this.start;
        this.start = 0;
      }
      const n = await readAt(this.fd, this.buf, this.end, this.consumedAt + (this.end - this.start));
      if (n === 0) {
        const partial = this.end - this.start;
        this.end = this.start; // read again next time, from the file as it is then
        this.need = 1;
        return { eof: true, partial };
      }
      this.end += n;
    }
  }
}
