// One cached descriptor for writes to an existing replica file, so a run of write events on one
// path costs one open; closed when the stream moves to another path and at commit and end.
import { closeSync, constants } from 'node:fs';
import type { Confine } from './confine.js';
import type { Durable } from './durable.js';
import { openRegular } from './fsops.js';

/** The existing file being written, if any. */
export class OpenFile {
  private cur: { path: string; fd: number } | undefined;

  constructor(
    private readonly confine: Confine,
    private readonly durable: Durable,
  ) {}

  /** The path whose descriptor is cached, if any. */
  get path(): string | undefined {
    return this.cur?.path;
  }

  /** A writable descriptor for the regular file at path (refusing anything else). */
  fd(path: string, doing: string): number {
    if (this.cur?.path === path) return this.cur.fd;
    this.close();
    const fd = openRegular(path, this.confine.resolve(path, false), constants.O_WRONLY, doing);
    this.cur = { path, fd };
    return fd;
  }

  /** Closes the cached descriptor (fsync first under --fsync). */
  close(): void {
    const c = this.cur;
    if (c === undefined) return;
    this.cur = undefined;
    try {
      this.durable.file(c.fd);
    } finally {
      closeSync(c.fd);
    }
  }
}
