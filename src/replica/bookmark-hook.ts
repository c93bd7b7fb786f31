// replay --on-bookmark CMD: the shell command run when the replica reached a bookmark (its data
// made durable and its progress recorded first), with the bookmark in its environment.
import { spawn } from 'node:child_process';
import { closeSync, constants, fstatSync, fsyncSync, openSync } from 'node:fs';
import { RillError, ioError } from '../errors.js';
import type { BookmarkEvent } from '../stream/events.js';
import { sys } from '../sys/native.js';

/** The environment a hook sees (documented in rill-replay(1)). */
export function bookmarkEnv(b: BookmarkEvent, source: string, root: string): Record<string, string> {
  return {
    RILL_BOOKMARK: b.name,
    RILL_BOOKMARK_SEQ: String(b.seq),
    RILL_BOOKMARK_WALL: b.wall.toString(),
    RILL_BOOKMARK_TIME: new Date(Number(b.wall / 1_000_000n)).toISOString(),
    RILL_BOOKMARK_CONSISTENT: b.consistent ? '1' : '0',
    RILL_SOURCE: source,
    RILL_ROOT: root,
  };
}

/**
 * Why: replay's loop stays free of process handling. Returns the hook: `sh -c command`, stdin from
 * /dev/null (replay's stdin is the stream), stdout to stderr (with --ack, stdout is the session).
 * A failure is an io error (exit 5) naming the bookmark, or with errors 'warn' a line on the log.
 */
export function bookmarkHook(command: string, root: string, errors: 'stop' | 'warn', log: (line: string) => void): (b: BookmarkEvent, source: string) => Promise<void> {
  return async (b, source) => {
    const status = await new Promise<string | undefined>((resolve, reject) => {
      const child = spawn('/bin/sh', ['-c', command], { stdio: ['ignore', 2, 2], env: { ...process.env, ...bookmarkEnv(b, source, root) } });
      child.once('error', (err) => reject(new RillError('io', `cannot run --on-bookmark command: ${err.message}`, { cause: err })));
      child.once('exit', (code, signal) => resolve(code === 0 ? undefined : signal !== null ? `was killed by ${signal}` : `failed with exit status ${code}`));
    });
    if (status === undefined) return;
    const message = `--on-bookmark command ${JSON.stringify(command)} ${status} at bookmark ${JSON.stringify(b.name)} (seq ${b.seq})`;
    if (errors === 'warn') return log(`warning: ${message}`);
    throw new RillError('io', `${message}; the replica is at that bookmark, with its progress recorded`, {
      hint: 'fix the command and run it by hand for this bookmark (a rerun of replay does not run it again), or pass --on-bookmark-errors=warn',
    });
  };
}

/** Writes back everything of the replica (syncfs of its file system; fsync for a block device). */
export function syncReplica(target: string): void {
  let fd: number;
  try {
    fd = openSync(target, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (err) {
    throw ioError('cannot open', target, err);
  }
  try {
    if (fstatSync(fd).isBlockDevice()) fsyncSync(fd);
    else sys.syncFs(fd);
  } catch (err) {
    throw ioError('cannot sync', target, err);
  } finally {
    closeSync(fd);
  }
}
