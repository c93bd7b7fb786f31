// Reads records from input files and/or stdin in order ('-' or no inputs = stdin); concatenated streams are fine.
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { RillError } from '../errors.js';
import type { StreamRecord } from './events.js';
import { joinParts } from './join.js';
import { readFrames } from './reader.js';

export interface ReadOptions {
  /** Where warnings about skipped records go (default: stderr). */
  onWarning?: (message: string) => void;
  /** Inputs of zero bytes hold no stream instead of being an error. */
  allowEmpty?: boolean;
}

/** Large reads: fewer frames straddle two chunks (which costs a copy to join them). */
const READ_CHUNK = 1024 * 1024;

/** Opens one input as a byte stream (for line-oriented inputs such as undump's JSON lines). */
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

/**
 * Decodes every input in turn, yielding header, event and end records. Buffers inside a record
 * (write data, xattr values) are valid until the next record is requested: copy what you keep.
 */
export async function* readRecords(inputs: string[], options: ReadOptions = {}): AsyncGenerator<StreamRecord> {
  for await (const batch of readBatches(inputs, options)) yield* batch;
}

/**
 * Decodes every input in turn, yielding the records of each frame as one array (the fast path).
 * Parts of a stream split by a journal are joined (join.ts), across inputs too, so every reader sees
 * the original streams. Buffers inside the records are valid until the next batch is requested:
 * copy what you keep.
 */
export function readBatches(inputs: string[], options: ReadOptions = {}): AsyncGenerator<StreamRecord[]> {
  return joinParts(readInputs(inputs, options));
}

/** Every input's frames in turn, parts not joined. */
async function* readInputs(inputs: string[], options: ReadOptions): AsyncGenerator<StreamRecord[]> {
  const names = inputs.length === 0 ? ['-'] : inputs;
  const onWarning = options.onWarning ?? ((m: string) => process.stderr.write(`rill: warning: ${m}\n`));
  for (const name of names) {
    const handle = name === '-' ? undefined : await open(name, 'r').catch((err: unknown) => Promise.reject(inputError(name, err)));
    try {
      yield* readFrames(handle?.fd ?? 0, { input: name === '-' ? 'stdin' : name, onWarning, allowEmpty: options.allowEmpty });
    } catch (err) {
      throw inputError(name, err);
    } finally {
      await handle?.close();
    }
  }
}
