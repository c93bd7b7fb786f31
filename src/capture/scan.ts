// The scan source: a depth-first walk of ROOT emitting its full state as events. Entries of a
// directory in byte order of their names; a directory's mkdir before its contents and its metadata
// after them (so its mtime survives); the root's metadata last; then a commit. Memory: one sorted
// listing per directory level, plus the hard-linked inodes whose other names are still to come.
import { lstatSync, type BigIntStats, type Dirent } from 'node:fs';
import { RillError } from '../errors.js';
import type { EventInput, Path } from '../stream/events.js';
import { bytesToPath, joinPath } from '../stream/path.js';
import { fileEvents, otherEvents, type EntryContext, type ScanHooks } from './entry.js';
import { PathFilter, type FilterRule } from './filter.js';
import { HardLinks } from './hardlinks.js';
import { metadataEvents, permissions } from './metadata.js';
import type { BufferPool } from './buffer-pool.js';
import { liveScanNote, problemFor, problemNote, type ScanProblem } from './problems.js';
import { openScanRoot, type ScanRoot } from './root.js';
import { direntKind, listDir, modeKind, RootPaths, type EntryKind } from './walk.js';

export type { ScanHooks } from './entry.js';

export interface ScanOptions {
  /** Largest data payload of one write event (default 256 KiB). */
  chunkSize?: number;
  /** --include/--exclude rules in command-line order, or a compiled filter. */
  filter?: PathFilter | readonly FilterRule[];
  /** Do not descend into directories on another file system (their mount points stay, empty). */
  oneFileSystem?: boolean;
  /** Told about every entry that changed, vanished or could not be read (its note is in the stream too). */
  onProblem?: (p: ScanProblem) => void;
  hooks?: ScanHooks;
  /** Read buffers to reuse; the consumer must release each after the bytes left (see buffer-pool.ts). */
  pool?: BufferPool;
}

export const DEFAULT_CHUNK_SIZE = 256 * 1024;

interface Frame {
  path: Path;
  abs: string | Buffer;
  /** Stat taken before the listing: the metadata emitted after the contents (atime before readdir touched it). */
  st: BigIntStats;
  entries: Dirent<Buffer>[];
  next: number;
}

/** The scan as a lazy synchronous generator: the fastest way to consume it (no promise per event). */
export function* scanEvents(root: string | ScanRoot, options: ScanOptions = {}): Generator<EventInput> {
  const r = typeof root === 'string' ? openScanRoot(root) : root;
  if (r.kind !== 'tree') throw new RillError('usage', `${JSON.stringify(r.path)} is a volume (a file or block device): capture it with --state, or as a volume`, { path: r.path });
  const paths = new RootPaths(r.abs);
  const filter = options.filter instanceof PathFilter ? options.filter : new PathFilter(options.filter ?? []);
  const onProblem = options.onProblem ?? (() => {});
  const ctx: EntryContext = {
    chunkSize: options.chunkSize ?? DEFAULT_CHUNK_SIZE,
    pool: options.pool,
    links: new HardLinks(),
    hooks: options.hooks ?? {},
    problem: (p) => {
      onProblem(p);
      return problemNote(p);
    },
  };
  if (!(ctx.chunkSize >= 1)) throw new RangeError(`chunkSize must be at least 1, not ${ctx.chunkSize}`);

  /** The frame of a directory about to be walked (after its mkdir), or undefined when it vanished. */
  function* openDir(path: Path, abs: string | Buffer, st: BigIntStats): Generator<EventInput, Frame | undefined> {
    let entries: Dirent<Buffer>[] = [];
    if (!options.oneFileSystem || st.dev === r.st.dev) {
      try {
        entries = listDir(abs);
      } catch (err) {
        const p = problemFor(path, err);
        if (p.code === 'unreadable') p.message = `could not be listed (${p.cause?.code}): captured as an empty directory`;
        yield ctx.problem(p);
        if (p.code === 'vanished') return undefined;
      }
    }
    if (path !== '') yield { type: 'mkdir', path, mode: permissions(st) };
    return { path, abs, st, entries, next: 0 };
  }

  /** A directory's metadata, after its contents; a directory that changed meanwhile gets a note. */
  function* closeDir(f: Frame): Generator<EventInput> {
    try {
      const now = lstatSync(f.abs, { bigint: true });
      if (now.mtimeNs !== f.st.mtimeNs || now.ctimeNs !== f.st.ctimeNs) {
        yield ctx.problem({ code: 'changed', path: f.path, message: 'directory changed during the scan (entries added, removed or renamed)' });
      }
      yield* metadataEvents(f.path, f.abs, f.st, 'always');
    } catch (err) {
      const p = problemFor(f.path, err);
      p.message = `${p.code === 'vanished' ? 'vanished' : 'could not be read'} (${p.cause?.code}) after its contents were read: they stay in the stream, its own metadata does not`;
      yield ctx.problem(p);
    }
  }

  /** lstat of an entry, or a note when that fails. */
  function* lstatEntry(path: Path, abs: string | Buffer): Generator<EventInput, BigIntStats | undefined> {
    try {
      return lstatSync(abs, { bigint: true });
    } catch (err) {
      yield ctx.problem(problemFor(path, err));
      return undefined;
    }
  }

  const excluded = (path: Path, kind: EntryKind): boolean => !filter.empty && filter.excludes(path, kind === 'dir');

  /**
   * Events of one listed entry; the frame to descend into when it is a directory. Regular files are
   * trusted to the listing's type and opened directly (fileEvents fstats them); everything else, or
   * a file that turns out to be something else by now, is lstat'ed.
   */
  function* entry(parent: Frame, d: Dirent<Buffer>): Generator<EventInput, Frame | undefined> {
    const name = bytesToPath(d.name);
    if (parent.path === '' && name === '.rill') return undefined;
    const path = joinPath(parent.path, name);
    const abs = paths.abs(path);
    let kind = direntKind(d);
    let st: BigIntStats | undefined;
    if (kind === 'unknown') {
      st = yield* lstatEntry(path, abs);
      if (st === undefined) return undefined;
      kind = modeKind(Number(st.mode));
    }
    if (excluded(path, kind)) return undefined;
    if (kind === 'file' && (yield* fileEvents(ctx, path, abs)) === 'done') return undefined;
    if (st === undefined || kind === 'file') {
      st = yield* lstatEntry(path, abs);
      if (st === undefined) return undefined;
      const now = modeKind(Number(st.mode));
      if (now !== kind) {
        if (excluded(path, now)) return undefined;
        if (now === 'file' && (yield* fileEvents(ctx, path, abs)) === 'done') return undefined;
        kind = now;
      }
    }
    if (kind === 'dir') return yield* openDir(path, abs, st);
    if (kind === 'file') {
      yield ctx.problem({ code: 'changed', path, message: 'kept changing type while it was read; not in the stream' });
      return undefined;
    }
    yield* otherEvents(ctx, path, abs, st);
    return undefined;
  }

  yield liveScanNote(r.abs);
  const stack: Frame[] = [];
  const top = yield* openDir('', r.abs, r.st);
  if (top !== undefined) stack.push(top);
  while (stack.length > 0) {
    const f = stack[stack.length - 1]!;
    if (f.next < f.entries.length) {
      const child = yield* entry(f, f.entries[f.next++]!);
      if (child !== undefined) stack.push(child);
    } else {
      stack.pop();
      yield* closeDir(f);
    }
  }
  yield { type: 'commit' };
}

/** The scan as an async generator, for consumers that await between events. */
export async function* scanTree(root: string | ScanRoot, options: ScanOptions = {}): AsyncGenerator<EventInput> {
  yield* scanEvents(root, options);
}
