// The pull reader: reads a file descriptor into two buffers it reuses, and parses frames in place.
// No per-chunk allocation, no copy of a short read, no join of chunks: only the bytes of a frame cut
// by the end of a buffer are moved (to the front of the other buffer). The price is a contract:
// the buffers inside a batch's records (write data, xattr values) are valid only until the next
// batch is requested; a consumer that keeps one copies it.
import { read } from 'node:fs';
import { StreamParser, type DecoderOptions } from './parser.js';
import type { StreamRecord } from './events.js';

/** Size of each of the two buffers (larger frames get a larger buffer when they come). */
const BUFFER_BYTES = 4 * 1024 * 1024;

function readInto(fd: number, buf: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const attempt = (): void =>
      read(fd, buf, offset, buf.length - offset, null, (err, n) => {
        // A pipe another process set non-blocking: wait for data instead of failing.
        if (err && (err as NodeJS.ErrnoException).code === 'EAGAIN') setTimeout(attempt, 1);
        else if (err) reject(err);
        else resolve(n);
      });
    attempt();
  });
}

/** Yields the records of each frame read from fd, until the end of the input (which must end cleanly). */
export async function* readFrames(fd: number, options: DecoderOptions = {}): AsyncGenerator<StreamRecord[]> {
  const parser = new StreamParser(options);
  let buf = Buffer.allocUnsafe(BUFFER_BYTES);
  let spare = Buffer.allocUnsafe(BUFFER_BYTES);
  let start = 0;
  let end = 0;
  let need = 1;
  for (;;) {
    while (end - start >= need) {
      const step = parser.step(buf.subarray(start, end));
      if ('need' in step) {
        need = step.need;
        break;
      }
      start += step.consumed;
      need = 1;
      if (step.records.length > 0) yield step.records;
    }
    if (start + need > buf.length || end === buf.length) {
      // Move the unparsed tail to the front of the other buffer. Everything else in this buffer
      // was handed out in batches the consumer has finished with (it asked for more).
      if (spare.length < need) spare = Buffer.allocUnsafe(need);
      buf.copy(spare, 0, start, end);
      [buf, spare] = [spare, buf];
      end -= start;
      start = 0;
    }
    const n = await readInto(fd, buf, end);
    if (n === 0) {
      parser.finish(end - start);
      return;
    }
    end += n;
  }
}
