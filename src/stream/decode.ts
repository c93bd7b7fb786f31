// The push decoder: a Transform from rill stream bytes to one array of records per frame, for
// pipelines of Node streams. The grammar and every check live in parser.ts.
import { Transform, type TransformCallback } from 'node:stream';
import { ByteQueue } from './byte-queue.js';
import { StreamParser, type DecoderOptions } from './parser.js';

export type { DecoderOptions } from './parser.js';

/** Bytes in; out, one array of records per frame (the records of a frame are released together). */
export class StreamDecoder extends Transform {
  private readonly queue = new ByteQueue();
  private readonly parser: StreamParser;
  /** Bytes the parser needs from the front of the queue before it can take its next step. */
  private need = 1;

  constructor(options: DecoderOptions = {}) {
    super({ readableObjectMode: true, writableObjectMode: false });
    this.parser = new StreamParser(options);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    const q = this.queue;
    q.push(chunk);
    try {
      while (q.length >= this.need) {
        const step = this.parser.step(q.peek(Math.min(q.length, Math.max(this.need, 32))));
        if ('need' in step) {
          this.need = step.need;
          continue;
        }
        q.skip(step.consumed);
        this.need = 1;
        if (step.records.length > 0) this.push(step.records);
      }
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    try {
      this.parser.finish(this.queue.length);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }
}
