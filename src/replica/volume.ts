// Replay into a volume: a regular file (created when missing) or a block device receives the write,
// truncate and punch events of a volume stream (path ''). Writes land at their offsets, so applying
// events again gives the same bytes: a killed replay rerun converges. Progress (source, last seq)
// is recorded at commits, bookmarks and ends, atomically and durably, in a state file beside a
// regular file (DIR/.NAME.rill-state) or where --state says (required for a block device); the
// same source and gap rules as a tree replay decide what fits (lineage.ts).
import { closeSync, constants, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readFileSync, realpathSync, statSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import { once } from 'node:events';
import { RillError, ioError } from '../errors.js';
import { dispatch, type Event, type Header, type StreamRecord } from '../stream/events.js';
import { sys } from '../sys/native.js';
import { describeHandlers } from './dry-run.js';
import { checkHeader, streamCreated } from './lineage.js';
import { isCreated } from './state.js';
import { punchRange } from './punch.js';
import type { ApplyStats } from './replica.js';
import { writeAll } from './xdev.js';
import { replaceDurably } from './durable.js';

export interface VolumeApplyOptions {
  /** Print what would change; change nothing (not even create the file). */
  dryRun?: boolean;
  /** fdatasync the volume at each commit before recording progress (default: only the state file is synced). */
  fsync?: boolean;
  /** Notes and bookmarks on the log, and a summary (by the caller). */
  verbose?: boolean;
  /** Apply a stream of another source, or a change set past a gap in seq. */
  force?: boolean;
  /** Where progress is recorded (default for a regular file: DIR/.NAME.rill-state; required for a block device). */
  state?: string;
  log?: (line: string) => void;
  print?: (line: string) => void | Promise<void>;
  /** Called after progress is recorded durably (replay --ack acknowledges it to ship). */
  onDurable?: (source: string, seq: number) => void;
  /** True when the input was cut on purpose (replay --until): a stream left open is not a truncation. */
  stoppedEarly?: () => boolean;
}

/** The progress record of a volume replica (JSON). */
export interface VolumeState {
  kind: 'volume';
  source: string;
  /** Every event of source up to this seq is applied. */
  lastSeq: number;
  node: string;
  /** ISO 8601 time of the write. */
  updated: string;
  /** Size of the volume the stream describes (a block device may be larger). */
  size: number;
  /** The target the progress is about: a file's dev/ino, a block device's size. */
  target: { path: string; dev?: number; ino?: number; rdev?: number; deviceSize?: number };
  /** Which stream of the source got the volume to lastSeq: its header's `created` (decimal ns); absent in older records (unknown). */
  created?: string;
  /**
   * Written before the first event of a stream other than the recorded one: events after lastSeq
   * of that stream may be partly applied (a replay of it that stops before a commit leaves this).
   */
  partial?: boolean;
}

/** What a replay target path is now. */
export type VolumeTargetKind = 'file' | 'device' | 'directory' | 'missing' | 'other';

/** The kind of the target path (a symlink to it is followed, like a device's /dev/disk/by-id name). */
export function targetKind(path: string): VolumeTargetKind {
  let st: Stats;
  try {
    st = statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw ioError('cannot look at replay target', path, err);
  }
  return st.isFile() ? 'file' : st.isBlockDevice() ? 'device' : st.isDirectory() ? 'directory' : 'other';
}

/** Default progress file of a regular-file volume: beside it, hidden. */
export function defaultVolumeState(file: string): string {
  return `${dirname(file)}/.${basename(file)}.rill-state`;
}

/** The real path of a target (missing: its parent's real path, if that exists). */
function realTarget(path: string): string {
  const abs = resolve(path);
  try {
    return realpathSync(abs);
  } catch {
    try {
      return `${realpathSync(dirname(abs))}/${basename(abs)}`;
    } catch {
      return abs;
    }
  }
}

/** The progress recorded in a volume replica's state file; undefined when there is none. */
export function readVolumeState(file: string): VolumeState | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw ioError('cannot read replica state', file, err);
  }
  try {
    const s = JSON.parse(text) as VolumeState;
    const stream = (s.created === undefined || isCreated(s.created)) && (s.partial === undefined || typeof s.partial === 'boolean');
    if (s.kind === 'volume' && typeof s.source === 'string' && Number.isSafeInteger(s.lastSeq) && Number.isSafeInteger(s.size) && typeof s.target === 'object' && stream) return s;
  } catch {
    // fall through
  }
  throw new RillError('io', `replica state ${JSON.stringify(file)} is not a volume replica's state`, { path: file, hint: 'name the right --state file, or remove it to replay a full stream from scratch' });
}

/** temp, fsync, rename, fsync the directory: the old record or the new one, whatever happens. */
function writeVolumeState(file: string, state: VolumeState): void {
  replaceDurably(`${file}.tmp`, file, dirname(file), `${JSON.stringify(state)}\n`);
}

const ZEROS = Buffer.alloc(1 << 20);
const NO_ZEROING = new Set(['EOPNOTSUPP', 'ENOTSUP', 'EINVAL', 'ENOTTY']);

/** The open volume being written. */
class Volume {
  readonly fd: number;
  readonly device: boolean;
  /** Bytes of a block device (a file has no bound). */
  readonly deviceSize: number;
  /** Size the stream gave the volume (its last truncate), or the file's size. */
  size: number;
  private dirty = false;

  constructor(
    readonly path: string,
    readonly shown: string,
    create: boolean,
  ) {
    try {
      if (create) mkdirSync(dirname(path), { recursive: true });
      const flags = create
        ? constants.O_CREAT | constants.O_EXCL | constants.O_RDWR | constants.O_NOFOLLOW
        : constants.O_RDWR | constants.O_NOFOLLOW;
      this.fd = openSync(path, flags, 0o600);
    } catch (err) {
      throw ioError(create ? 'cannot create volume' : 'cannot open volume', shown, err);
    }
    const st = fstatSync(this.fd);
    this.device = st.isBlockDevice();
    if (this.device) {
      // Exclusive: a device that is mounted or otherwise claimed is refused (EBUSY).
      closeSync(this.fd);
      try {
        this.fd = openSync(path, constants.O_RDWR | constants.O_EXCL);
      } catch (err) {
        const busy = (err as NodeJS.ErrnoException).code === 'EBUSY';
        throw new RillError('io', `cannot open block device ${JSON.stringify(shown)} for writing${busy ? ': it is in use (mounted, or claimed by another program)' : `: ${(err as Error).message}`}`, {
          path: shown,
          cause: err,
          hint: busy ? 'unmount it first: replay overwrites the whole device' : undefined,
        });
      }
    } else if (!st.isFile()) {
      closeSync(this.fd);
      throw new RillError('usage', `replay target ${JSON.stringify(shown)} is neither a regular file nor a block device`, { path: shown });
    }
    this.deviceSize = this.device ? sys.blockDeviceSize(this.fd) : Number.MAX_SAFE_INTEGER;
    this.size = this.device ? this.deviceSize : st.size;
  }

  identity(): VolumeState['target'] {
    const st = fstatSync(this.fd);
    return this.device ? { path: this.path, rdev: st.rdev, deviceSize: this.deviceSize } : { path: this.path, dev: st.dev, ino: st.ino };
  }

  private fits(end: number, what: string): void {
    if (end <= this.deviceSize) return;
    throw new RillError('io', `block device ${JSON.stringify(this.shown)} holds ${this.deviceSize} bytes, too small for the volume in the stream (${what} reaches byte ${end})`, {
      path: this.shown,
      hint: `replay into a device of at least ${end} bytes, or into a regular file`,
    });
  }

  write(offset: number, data: Buffer): void {
    this.fits(offset + data.length, 'a write');
    writeAll(this.fd, data, offset);
    this.dirty = true;
  }

  truncate(size: number): void {
    if (this.device) this.fits(size, 'its size');
    else ftruncateSync(this.fd, size);
    this.size = size;
    this.dirty = true;
  }

  punch(offset: number, length: number): void {
    if (length === 0) return;
    this.dirty = true;
    if (!this.device) return punchRange(this.fd, offset, length);
    this.fits(offset + length, 'a hole');
    // Unmap where the device can (thin devices stay thin), else let the kernel zero, else write zeros.
    for (const zero of [sys.punchHole, sys.zeroRange]) {
      try {
        zero(this.fd, offset, length);
        return;
      } catch (err) {
        if (!NO_ZEROING.has((err as NodeJS.ErrnoException).code ?? '')) throw err;
      }
    }
    for (let at = offset; at < offset + length; at += ZEROS.length) writeAll(this.fd, ZEROS.subarray(0, Math.min(ZEROS.length, offset + length - at)), at);
  }

  /** Makes the writes so far durable (with --fsync). */
  sync(): void {
    if (!this.dirty) return;
    fdatasyncSync(this.fd);
    this.dirty = false;
  }

  close(): void {
    closeSync(this.fd);
  }
}

/** Why a recorded state does not describe the target as it is now, or undefined when it does. */
function stale(s: VolumeState, v: Volume | undefined): string | undefined {
  if (v === undefined) return 'the volume it describes does not exist any more';
  const now = v.identity();
  if (v.device) return now.deviceSize === s.target.deviceSize ? undefined : `it was written for a device of ${s.target.deviceSize} bytes, this one holds ${now.deviceSize}`;
  // Not the size: a replay stopped after a truncate and before the next commit left another size, legitimately.
  if (now.dev !== s.target.dev || now.ino !== s.target.ino) return 'it was written for another file at this path (device/inode differ)';
  return undefined;
}

/** The sizes a write, truncate or punch reaches, or a refusal for events a volume has no use for. */
function checkVolumeEvent(e: Event): void {
  if (e.type === 'write' || e.type === 'truncate' || e.type === 'punch') {
    if (e.path !== '') {
      throw new RillError('stream', `${e.type} event seq ${e.seq} names ${JSON.stringify(e.path)}: in a volume stream data events name the volume itself (path "")`);
    }
    return;
  }
  if (e.type === 'commit' || e.type === 'bookmark' || e.type === 'note') return;
  throw new RillError('stream', `${e.type} event seq ${e.seq} has no meaning in a volume stream (only write, truncate, punch, commit, bookmark and note do)`);
}

/**
 * Applies volume streams (concatenated ones too) to the file or block device at `target`. A tree
 * stream, or a target that is a directory, is refused (RillError 'usage'); a stream that does not
 * fit the recorded progress is refused (RillError 'mismatch'), see lineage.ts.
 */
export async function applyVolume(records: AsyncIterable<StreamRecord | StreamRecord[]>, target: string, options: VolumeApplyOptions = {}): Promise<ApplyStats> {
  const started = performance.now();
  const log = options.log ?? ((line: string) => process.stderr.write(`rill replay: ${line}\n`));
  const print = options.print ?? printLine;
  const stats: ApplyStats = { events: 0, files: 0, bytes: 0, skipped: 0, seconds: 0 };
  const kind = targetKind(target);
  const path = realTarget(target);
  if (kind === 'directory') {
    throw new RillError('usage', `replay target ${JSON.stringify(target)} is a directory, and volume streams are replayed into a regular file or block device`, {
      path: target,
      hint: 'name the image file (created when missing) or the block device to write',
    });
  }
  if (kind === 'other') throw new RillError('usage', `replay target ${JSON.stringify(target)} is neither a regular file nor a block device`, { path: target });
  if (kind === 'device' && options.state === undefined) {
    throw new RillError('usage', `replay into the block device ${JSON.stringify(target)} needs --state FILE: where its progress is recorded (outside the device)`, { hint: 'e.g. --state /var/lib/rill/disk.replica' });
  }
  const stateFile = resolve(options.state ?? defaultVolumeState(path));
  let recorded = readVolumeState(stateFile);
  let volume: Volume | undefined;
  let source = '';
  let node = hostname();
  let open = false;
  let lastSeq: number | undefined;
  let skipThrough = -1;
  let skipped = 0;
  /** The header's `created` of the stream being applied. */
  let created: string | undefined;
  /** The stream is not the recorded one: record that before its first event changes the volume. */
  let announce = false;

  /** The volume, opened (or created) at the first stream that fits; a stale state is dropped then. */
  const prepare = (): void => {
    if (volume === undefined && !options.dryRun && targetKind(path) !== 'missing') volume = new Volume(path, target, false);
    if (recorded !== undefined) {
      const why = options.dryRun && volume === undefined && targetKind(path) !== 'missing' ? undefined : stale(recorded, volume);
      if (why !== undefined) {
        log(`warning: ignoring the progress in ${stateFile}: ${why}`);
        recorded = undefined;
      }
    }
  };

  const save = (seq: number, partial = false): void => {
    if (volume === undefined) return;
    if (options.fsync && !partial) volume.sync();
    const state: VolumeState = { kind: 'volume', source, lastSeq: seq, node, updated: new Date().toISOString(), size: volume.size, target: volume.identity(), created, ...(partial ? { partial } : {}) };
    writeVolumeState(stateFile, state);
    recorded = state;
    if (!partial) options.onDurable?.(source, seq);
  };

  const header = (h: Header): void => {
    if (h.kind !== 'volume') {
      throw new RillError('usage', `replay target ${JSON.stringify(target)} is a ${kind === 'device' ? 'block device' : 'file'}, and this is a stream of a directory tree`, {
        path: target,
        hint: 'replay tree streams into a directory',
      });
    }
    prepare();
    const applied = recorded === undefined ? undefined : { source: recorded.source, seq: recorded.lastSeq, node: recorded.node, updated: recorded.updated, created: recorded.created, interrupted: recorded.partial };
    skipThrough = checkHeader(h, applied, options.force === true, JSON.stringify(target), log);
    if (recorded !== undefined && recorded.source !== h.source) log(`warning: --force: applying source ${h.source} over the replica of source ${recorded.source}`);
    source = h.source;
    created = streamCreated(h);
    announce = recorded !== undefined && (recorded.source !== h.source || recorded.created !== created);
    node = h.node;
    if (volume === undefined && !options.dryRun) {
      volume = new Volume(path, target, true);
      stats.files++;
    }
  };

  try {
    for await (const item of records) {
      for (const rec of Array.isArray(item) ? item : [item]) {
        if (rec.type === 'header') {
          header(rec);
          open = true;
          lastSeq = undefined;
        } else if (rec.type === 'end') {
          if (!options.dryRun) save(Math.max(rec.lastSeq ?? lastSeq ?? 0, skipThrough));
          if (skipped > 0) log(`skipped ${skipped} events already applied (source ${source}, seq <= ${skipThrough}, per ${stateFile})`);
          stats.skipped += skipped;
          skipped = 0;
          open = false;
        } else {
          if (!open) throw new RillError('stream', `event seq ${rec.seq} comes before any header`);
          lastSeq = rec.seq;
          checkVolumeEvent(rec);
          if (rec.seq <= skipThrough) {
            skipped++;
            continue;
          }
          stats.events++;
          if (rec.type === 'write') stats.bytes += rec.data.length;
          if (options.dryRun) {
            const line = dispatch(describeHandlers, rec, { applyOwner: false });
            if (line !== undefined) {
              const wait = print(line);
              if (wait !== undefined) await wait;
            }
            continue;
          }
          if (announce) {
            announce = false;
            save(skipThrough, true);
          }
          try {
            apply(volume!, rec, options, log, save);
          } catch (err) {
            if (err instanceof RillError) throw err;
            throw ioError(`${rec.type} (seq ${rec.seq}) of volume`, target, err);
          }
        }
      }
    }
    if (open && options.stoppedEarly?.() !== true) throw new RillError('stream', 'the stream ended without an end record (truncated?); the replica holds what came before, its progress was recorded at the last commit');
  } finally {
    volume?.close();
  }
  stats.seconds = (performance.now() - started) / 1000;
  return stats;
}

function apply(v: Volume, e: Event, options: VolumeApplyOptions, log: (line: string) => void, save: (seq: number) => void): void {
  switch (e.type) {
    case 'write':
      return v.write(e.offset, e.data);
    case 'truncate':
      return v.truncate(e.size);
    case 'punch':
      return v.punch(e.offset, e.length);
    case 'commit':
      return save(e.seq);
    case 'bookmark':
      if (options.verbose) log(`bookmark ${JSON.stringify(e.name)}${e.consistent ? ' (consistent)' : ''}`);
      return save(e.seq);
    case 'note':
      if (options.verbose) log(`note ${e.code}: ${e.message}`);
      return;
    default:
      return;
  }
}

/** Writes a line to stdout, waiting when the pipe is full. */
function printLine(line: string): Promise<void> | void {
  if (!process.stdout.write(`${line}\n`)) return once(process.stdout, 'drain').then(() => undefined);
}

/**
 * Decides whether `rill replay ROOT` writes a volume: ROOT is an existing regular file or block
 * device, or the first header of the input says kind "volume" (a missing ROOT is then created as a
 * file, and a directory ROOT is refused by applyVolume). Peeks at the first batch only; the records
 * returned yield it again, then the rest.
 */
export async function routeReplay<T extends StreamRecord | StreamRecord[]>(root: string, input: AsyncIterable<T>): Promise<{ volume: boolean; records: AsyncIterable<T> }> {
  const kind = targetKind(root);
  if (kind === 'file' || kind === 'device') return { volume: true, records: input };
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  const records = (async function* () {
    if (first.done) return;
    let finished = false;
    try {
      yield first.value;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
      finished = true;
    } finally {
      if (!finished) await it.return?.();
    }
  })();
  const head = first.done ? undefined : (Array.isArray(first.value) ? first.value : [first.value]).find((r) => r.type === 'header');
  return { volume: head?.kind === 'volume', records };
}
