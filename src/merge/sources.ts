// One input of sort-merge as record batches, whatever it is: a stream file (or several concatenated),
// stdin ('-'), or a journal directory (a `ship --sink` inbox, a capture --journal): its segments in
// order, parts joined (src/journal). A journal's last stream may still be open (its writer running or
// killed): its events up to the last whole frame are taken, and a warning says so.
import { stat } from 'node:fs/promises';
import { RillError } from '../errors.js';
import { readJournal } from '../journal/index.js';
import type { StreamRecord } from '../stream/events.js';
import { inputError, readBatches } from '../stream/inputs.js';

/** Why: inputs.ts reads files and journals alike. Buffers are valid until the next batch is requested. */
export async function* inputBatches(name: string, warn: (m: string) => void): AsyncGenerator<StreamRecord[]> {
  if (name === '-' || !(await isDirectory(name))) return yield* readBatches([name]);
  let open = false;
  let any = false;
  for await (const batch of readJournal(name)) {
    for (const rec of batch) {
      any = true;
      open = rec.type !== 'end';
    }
    yield batch;
  }
  if (!any) throw new RillError('stream', `journal ${name} holds no stream (no segment files NNNNNNNN-SEQ.rill in it)`, { input: name });
  if (open) warn(`journal ${name}: its last stream has no end record yet (its writer is running, or was killed): merged up to its last whole frame`);
}

async function isDirectory(name: string): Promise<boolean> {
  try {
    return (await stat(name)).isDirectory();
  } catch (err) {
    throw inputError(name, err);
  }
}
