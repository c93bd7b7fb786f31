// Reads records from input files and/or stdin in order ('-' or no inputs = stdin); concatenated streams are fine.
import { createReadStream } from 'node:fs';
import { pipeline, type Readable } from 'node:stream';
import { RillError } from '../errors.js';
import type { StreamRecord } from './events.js';
import { StreamDecoder } from './decode.js';

export interface ReadOptions {
  /** Where warnings about skipped records go (default: stderr). */
  onWarning?: (message: string) => void;
  /** Standard input to use for '-' (default: fd 0, read in 1 MiB chunks). */
  stdin?: Readable;
}

/** Large reads: fewer frames straddle two chunks (which costs a copy to join them). */
const READ_CHUNK = 1024 * 1024;

/** Opens one input as bytes; a missing or unreadable file becomes an io error naming it. */
export function openInput(name: string, stdin?: Readable): Readable {
  if (name === '-') return stdin ?? createReadStream('', { fd: 0, highWaterMark: READ_CHUNK, autoClose: false });
  return createReadStream(name, { highWaterMark: READ_CHUNK });
}

/** A read failure as an io error naming the input (stream errors pass through). */
export function inputError(name: string, err: unknown): unknown {
  if (err instanceof RillError) return err;
  const e = err as NodeJS.ErrnoException;
  const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EISDIR' ? 'is a directory' : e.message;
  return new RillError('io', `cannot read input ${JSON.stringify(name)}: ${why}`, { path: name, cause: err });
}

/** Decodes every input in turn, yielding header, event and end records. */
export async function* readRecords(inputs: string[], options: ReadOptions = {}): AsyncGenerator<StreamRecord> {
  for await (const batch of readBatches(inputs, options)) yield* batch;
}

/** Decodes every input in turn, yielding the records of each frame as one array (the fast path). */
export async function* readBatches(inputs: string[], options: ReadOptions = {}): AsyncGenerator<StreamRecord[]> {
  const names = inputs.length === 0 ? ['-'] : inputs;
  const onWarning = options.onWarning ?? ((m: string) => process.stderr.write(`rill: warning: ${m}\n`));
  for (const name of names) {
    const src = openInput(name, options.stdin);
    const decoder = new StreamDecoder({ input: name === '-' ? 'stdin' : name, onWarning });
    pipeline(src, decoder, () => {});
    try {
      for await (const batch of decoder) yield batch as StreamRecord[];
    } catch (err) {
      throw inputError(name, err);
    } finally {
      if (!decoder.destroyed) decoder.destroy();
      if (!src.destroyed) src.destroy();
    }
  }
}
