// Commands that write a stream: records -> encoder -> stdout or --output FILE, complete or not at all.
import { pipeline } from 'node:stream/promises';
import { openOutput } from './cli-io.js';
import type { HeaderInit, StreamEncoder } from './stream/encode.js';

/**
 * Runs `produce` with an encoder piped to the output; on success the output is made final
 * (renamed into place for a file), on failure a partial file is removed and the error rethrown.
 */
export async function encodeTo(
  output: string | undefined,
  header: HeaderInit | undefined,
  produce: (encoder: StreamEncoder) => Promise<void>,
): Promise<void> {
  const { StreamEncoder } = await import('./stream/encode.js'); // on use: cheap start-up
  const out = openOutput(output);
  const encoder = new StreamEncoder(header);
  const done = pipeline(encoder, out.stream);
  done.catch(() => {});
  try {
    await produce(encoder);
    encoder.end();
    await done;
    out.commit();
  } catch (err) {
    encoder.destroy();
    out.abort();
    throw err;
  }
}
