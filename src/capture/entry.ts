// Events for one non-directory entry: a regular file (content, then metadata), a symlink, a fifo,
// socket or device node, or a further name of a hard-linked inode. Failures become notes; an entry
// that fails after its creating event was emitted is unlinked again, so the stream stays coherent.
import { closeSync, constants, fstatSync, openSync, readlinkSync, type BigIntStats } from 'node:fs';
import type { EventInput, Path } from '../stream/events.js';
import { bytesToPath } from '../stream/path.js';
import { dataEvents } from './file-data.js';
import type { BufferPool } from './buffer-pool.js';
import type { HardLinks } from './hardlinks.js';
import { metadataEvents, permissions } from './metadata.js';
import { problemFor, type ScanProblem } from './problems.js';
import { S_IFLNK, S_IFMT, S_IFREG } from './walk.js';

/** Test hooks: let a test change the tree at exact points of the walk. */
export interface ScanHooks {
  /** Called just before a regular file is opened. */
  beforeOpen?(path: Path, abs: string | Buffer): void;
  /** Called after a regular file's data was read, before it is checked for changes. */
  afterData?(path: Path, abs: string | Buffer): void;
}

/** What entry handlers share with the walk. */
export interface EntryContext {
  chunkSize: number;
  pool?: BufferPool;
  links: HardLinks;
  hooks: ScanHooks;
  /** Reports a problem to the caller and returns its note event. */
  problem(p: ScanProblem): EventInput;
}

const OPEN_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

/** Opens without touching atime where allowed (O_NOATIME needs ownership or CAP_FOWNER). */
export function openNoFollow(abs: string | Buffer): number {
  try {
    return openSync(abs, OPEN_FLAGS | constants.O_NOATIME);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw err;
    return openSync(abs, OPEN_FLAGS);
  }
}

/** True when a file's size, mtime or ctime moved between two stats. */
export function statChanged(a: BigIntStats, b: BigIntStats): boolean {
  return a.size !== b.size || a.mtimeNs !== b.mtimeNs || a.ctimeNs !== b.ctimeNs;
}

/**
 * A regular file. It is opened first (O_NOFOLLOW) and its fstat is the stat the events describe, so
 * content and metadata are of one inode. 'retype' when it is no longer a regular file.
 */
export function* fileEvents(ctx: EntryContext, path: Path, abs: string | Buffer): Generator<EventInput, 'done' | 'retype'> {
  let fd: number;
  try {
    ctx.hooks.beforeOpen?.(path, abs);
    fd = openNoFollow(abs);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') return 'retype';
    yield ctx.problem(problemFor(path, err));
    return 'done';
  }
  let created = false;
  try {
    const st = fstatSync(fd, { bigint: true });
    if ((Number(st.mode) & S_IFMT) !== S_IFREG) return 'retype';
    const first = ctx.links.firstName(st);
    if (first !== undefined) {
      yield { type: 'link', path, target: first };
      return 'done';
    }
    yield { type: 'create', path, mode: permissions(st) };
    created = true;
    const size = Number(st.size);
    const end = yield* dataEvents(fd, path, size, { chunkSize: ctx.chunkSize, allocated: Number(st.blocks) * 512, pool: ctx.pool });
    ctx.hooks.afterData?.(path, abs);
    const after = fstatSync(fd, { bigint: true });
    if (statChanged(st, after)) yield ctx.problem(changedProblem(path, st, after));
    if (size > end) yield { type: 'truncate', path, size };
    yield* metadataEvents(path, abs, st, 'setid');
    ctx.links.remember(st, path);
  } catch (err) {
    yield ctx.problem(problemFor(path, err));
    if (created) yield { type: 'unlink', path };
  } finally {
    closeSync(fd);
  }
  return 'done';
}

/** A symlink, fifo, socket or device node, described by its lstat. */
export function* otherEvents(ctx: EntryContext, path: Path, abs: string | Buffer, st: BigIntStats): Generator<EventInput> {
  const first = ctx.links.firstName(st);
  if (first !== undefined) {
    yield { type: 'link', path, target: first };
    return;
  }
  const mode = Number(st.mode);
  const isSymlink = (mode & S_IFMT) === S_IFLNK;
  let created = false;
  try {
    if (isSymlink) yield { type: 'symlink', path, target: bytesToPath(readlinkSync(abs, { encoding: 'buffer' })) };
    else yield { type: 'mknod', path, mode, rdev: Number(st.rdev) };
    created = true;
    yield* metadataEvents(path, abs, st, isSymlink ? 'never' : 'setid');
    ctx.links.remember(st, path);
  } catch (err) {
    yield ctx.problem(problemFor(path, err));
    if (created) yield { type: 'unlink', path };
  }
}

function changedProblem(path: Path, before: BigIntStats, after: BigIntStats): ScanProblem {
  const what = [
    before.size !== after.size ? `size ${before.size} → ${after.size}` : '',
    before.mtimeNs !== after.mtimeNs ? 'mtime' : '',
    before.ctimeNs !== after.ctimeNs && before.mtimeNs === after.mtimeNs ? 'ctime' : '',
  ].filter(Boolean);
  return {
    code: 'changed',
    path,
    message: `changed while it was read (${what.join(', ')}): its copy in the stream may mix old and new content`,
  };
}
