// Where commands write streams: stdout, or --output FILE written under a temporary name and renamed
// into place only when complete (a failed run never leaves a partial file that looks whole).
import { createWriteStream, renameSync, rmSync, fsyncSync, openSync, closeSync } from 'node:fs';
import { dirname, basename, join } from 'node:path';
import type { Writable } from 'node:stream';
import { ioError } from './errors.js';
import { sys } from './sys/native.js';

export interface Output {
  stream: Writable;
  /** Makes the output final: fsync + rename for files; nothing for stdout. */
  commit(): void;
  /** Removes a partial file. */
  abort(): void;
}

export function openOutput(path: string | undefined): Output {
  if (path === undefined || path === '-') {
    return { stream: process.stdout, commit: () => {}, abort: () => {} };
  }
  const temp = join(dirname(path), `.${basename(path)}.rill-partial-${process.pid}`);
  const stream = createWriteStream(temp, { flags: 'wx', highWaterMark: 1024 * 1024 });
  return {
    stream,
    commit: () => {
      try {
        const fd = openSync(temp, 'r');
        fsyncSync(fd);
        closeSync(fd);
        renameSync(temp, path);
      } catch (err) {
        throw ioError('cannot finish output', path, err);
      }
    },
    abort: () => rmSync(temp, { force: true }),
  };
}

/** Pipe buffer rill asks for on its stdin and stdout (Linux allows up to /proc/sys/fs/pipe-max-size). */
const PIPE_BYTES = 1024 * 1024;

/** Grows stdin and stdout to 1 MiB when they are pipes: far fewer reads, writes and wake-ups per GiB. */
export function widenStdioPipes(): void {
  for (const fd of [0, 1]) sys.setPipeSize(fd, PIPE_BYTES);
}
