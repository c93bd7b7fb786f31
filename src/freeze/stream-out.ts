// Records out as a rill stream on a byte sink (stdout), framed afresh (end records get their own
// count and checksum), with backpressure: a filter holds at most about one frame plus the sink's buffer.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { StreamRecord } from '../stream/events.js';
import { StreamFramer } from '../stream/framer.js';

/** The sink's buffer beyond which the writer waits for it to drain. */
const HIGH_WATER = 4 * 1024 * 1024;

/** Writes every batch to out as stream bytes; resolves once all is handed to out (not ended). */
export async function writeRecords(batches: AsyncIterable<StreamRecord[]>, out: Writable): Promise<void> {
  let failed: Error | undefined;
  const onError = (err: Error): void => {
    failed ??= err;
  };
  out.on('error', onError);
  // Pieces are copied: the input's buffers are reused once the next batch is requested.
  const framer = new StreamFramer((pieces) => {
    for (const p of pieces) out.write(Buffer.from(p));
  }, { transient: true });
  try {
    for await (const batch of batches) {
      for (const rec of batch) {
        if (rec.type === 'header') framer.header(rec);
        else if (rec.type === 'end') framer.end(rec.more === true);
        else framer.event(rec);
      }
      framer.flush();
      if (failed !== undefined) throw failed;
      if (out.writableLength > HIGH_WATER) await Promise.race([once(out, 'drain'), once(out, 'error')]);
      if (failed !== undefined) throw failed;
    }
  } finally {
    out.off('error', onError);
  }
}
