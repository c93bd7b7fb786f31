// Bytes to disk for the journal: whole frames with write(2) (a short write is continued), fsync of a
// segment off the event loop with requests coalesced (one running, at most one more queued: it covers
// every request made meanwhile), and fsync of the directory after a segment is created or removed.
import { closeSync, fsync, fsyncSync, openSync, writevSync } from 'node:fs';
import { ioError } from '../errors.js';

/** Why: a frame goes out whole with one writev(2) in the common case; returns the position after it. */
export function writeAllAt(fd: number, pieces: Buffer[], position: number, path: string): number {
  let rest = pieces;
  let pos = position;
  for (;;) {
    let n: number;
    try {
      n = writevSync(fd, rest, pos);
    } catch (err) {
      throw ioError('cannot write journal segment', path, err);
    }
    pos += n;
    let i = 0;
    while (i < rest.length && n >= rest[i]!.length) n -= rest[i++]!.length;
    if (i === rest.length) return pos;
    rest = [rest[i]!.subarray(n), ...rest.slice(i + 1)];
  }
}

/** Why: a created or removed segment name is durable only once its directory is fsynced. */
export function fsyncDir(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    throw ioError('cannot fsync the journal directory', dir, err);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Why: commits may come faster than fsyncs; each waits for one fsync that started after it was asked for. */
export class Fsyncer {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(
    private readonly fd: number,
    private readonly path: string,
  ) {}

  /** Resolves when everything written before the call is on disk. */
  request(): Promise<void> {
    if (this.queued !== undefined) return this.queued;
    if (this.running === undefined) return this.start();
    const queued = this.running
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        this.queued = undefined;
        return this.start();
      });
    this.queued = queued;
    return queued;
  }

  /** Waits until no fsync is running or queued (before the descriptor is closed); errors are the requesters'. */
  async idle(): Promise<void> {
    while (this.running !== undefined || this.queued !== undefined) await (this.queued ?? this.running)!.catch(() => undefined);
  }

  private start(): Promise<void> {
    const p = new Promise<void>((resolve, reject) => fsync(this.fd, (err) => (err ? reject(ioError('cannot fsync journal segment', this.path, err)) : resolve())));
    this.running = p;
    const clear = (): void => {
      if (this.running === p) this.running = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}
