// Commands that write a stream: records -> encoder -> stdout or --output FILE, complete or not at all.
import { Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { openOutput } from './cli-io.js';
import { RillError, ioError } from './errors.js';
import type { HeaderInit, StreamEncoder } from './stream/encode.js';

/** How the encoder's output reaches the output stream (both optional). */
export interface EncodeToOptions {
  /** Every chunk is reported once the output has written it, so its memory can be reused. */
  onWritten?: (chunk: Buffer) => void;
  /** A writable in front of the output (e.g. one that gathers an event-loop turn into one writev). */
  via?: (dest: Writable) => Writable;
}

/**
 * Runs `produce` with an encoder piped to the output; on success the output is made final
 * (renamed into place for a file), on failure a partial file is removed and the error rethrown.
 */
export async function encodeTo(
  output: string | undefined,
  header: HeaderInit | undefined,
  produce: (encoder: StreamEncoder) => Promise<void>,
  options: EncodeToOptions = {},
): Promise<void> {
  const { onWritten, via } = options;
  const { StreamEncoder } = await import('./stream/encode.js'); // on use: cheap start-up
  const out = openOutput(output);
  const encoder = new StreamEncoder(header);
  const dest = onWritten === undefined ? out.stream : notifying(out.stream, onWritten);
  const done = pipeline(encoder, via === undefined ? dest : via(dest));
  done.catch(() => {});
  // If the output fails first (no such directory, a closed pipe), the producer may be left waiting
  // for a 'drain' that never comes: the output's failure must end the wait.
  const outputFailed = done.then(() => new Promise<never>(() => {}));
  try {
    await Promise.race([produce(encoder), outputFailed]);
    encoder.end();
    await done;
    out.commit();
  } catch (err) {
    encoder.destroy();
    out.abort();
    // A failure of the output file itself is named by the path the user gave, not the temporary one.
    const code = (err as NodeJS.ErrnoException)?.code;
    if (output !== undefined && !(err instanceof RillError) && code !== undefined && code !== 'EPIPE') {
      throw ioError('cannot write the stream to', output, err);
    }
    throw err;
  }
}

/** A writable in front of dest that reports each chunk after dest's write of it completed. */
function notifying(dest: Writable, onWritten: (chunk: Buffer) => void): Writable {
  const sink = new Writable({
    highWaterMark: 1024 * 1024,
    write(chunk: Buffer, _enc, cb) {
      dest.write(chunk, (err) => {
        if (!err) onWritten(chunk);
        cb(err);
      });
    },
    writev(chunks, cb) {
      let left = chunks.length;
      let failed: Error | null | undefined;
      for (const { chunk } of chunks) {
        dest.write(chunk, (err) => {
          if (err) failed ??= err;
          else onWritten(chunk as Buffer);
          if (--left === 0) cb(failed);
        });
      }
    },
    final(cb) {
      if (dest === process.stdout) return cb();
      dest.end();
      finished(dest).then(() => cb(), cb);
    },
    destroy(err, cb) {
      if (err && dest !== process.stdout) dest.destroy(err);
      cb(err);
    },
  });
  // dest is outside the pipeline: its failures (a missing directory, a full disk) end the sink.
  dest.on('error', (err) => sink.destroy(err));
  return sink;
}
