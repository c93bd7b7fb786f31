// Volume mode: a regular file or block device captured as one volume, by blocks. The volume is read
// once, block hashes (xxh64) are compared with the state's, and the changed blocks become write
// events, blocks that became holes punch events (path '' names the volume). The new hashes go to the
// new state file while the events stream, so memory stays bounded whatever the volume's size; the
// state is put in place only once the whole stream was written (commit), else dropped (abort).
//
// State file records (see state-file.ts for the container): first { size, blocks }, then
// { first, hashes } records in block order, each holding up to HASHES_PER_RECORD hashes of
// HASH_BYTES (xxh64, little-endian) for blocks first, first+1, ...
import { closeSync, constants, fstatSync, openSync, realpathSync, type Stats } from 'node:fs';
import { RillError } from '../errors.js';
import type { EventInput } from '../stream/events.js';
import { showPath } from '../stream/path.js';
import { sys } from '../sys/native.js';
import { blockCount, blockEvents, HASH_BYTES, type HashLookup } from './blocks.js';
import type { BufferPool } from './buffer-pool.js';
import type { ScanProblem } from './problems.js';
import type { ScanRoot } from './root.js';
import type { CaptureSource } from './source.js';
import { StateWriter, type StateReader } from './state-file.js';
import { stateHeader, type StatePlan } from './state-plan.js';

export interface VolumeOptions {
  chunkSize: number;
  blockSize: number;
  pool?: BufferPool;
  /** The decision from --state (undefined without --state: a full stream, no state written). */
  plan?: StatePlan;
  stateFile?: string;
  node?: string;
  onProblem?: (p: ScanProblem) => void;
  /** A commit event after at most this many bytes of the volume were read (default 1 GiB), so a replay resumes there. */
  commitEvery?: number;
}

/** Hashes per state record: 1 MiB of them, so a record is read and written in bounded memory. */
export const HASHES_PER_RECORD = (1024 * 1024) / HASH_BYTES;
/** Default distance between commit events in a volume stream (bytes of the volume). */
export const COMMIT_EVERY = 1024 * 1024 * 1024;

/** The first record of a volume state. */
export interface VolumeSizeRecord {
  size: number;
  blocks: number;
}

/** A hash record of a volume state. */
export interface VolumeHashRecord {
  first: number;
  hashes: Uint8Array;
}

function corrupt(file: string, why: string): RillError {
  return new RillError('mismatch', `state file ${JSON.stringify(file)} is corrupt: ${why}`, {
    path: file,
    hint: 'capture again with --full to rebuild it (the next stream is then a full one)',
  });
}

/**
 * The old state's hashes, read record by record as the volume is read (lookups come in increasing
 * block order): one record in memory at a time.
 */
class OldHashes implements HashLookup {
  readonly size: number;
  readonly count: number;
  private readonly records: Generator<[number, unknown]>;
  private first = 0;
  private hashes: Buffer = Buffer.alloc(0);

  constructor(
    private readonly state: StateReader,
    /** Blocks of the new volume: blocks past the old count are unknown (new). */
    readonly blocks: number,
  ) {
    this.records = state.records();
    const head = this.records.next();
    const rec = (head.done ? undefined : head.value[1]) as Partial<VolumeSizeRecord> | undefined;
    if (!Number.isSafeInteger(rec?.size) || !Number.isSafeInteger(rec?.blocks) || rec!.blocks !== blockCount(rec!.size!, state.header.blockSize)) {
      throw corrupt(state.file, 'its first record is not a volume size record');
    }
    this.size = rec!.size!;
    this.count = rec!.blocks!;
  }

  at(block: number): bigint | undefined {
    if (block >= this.count) return undefined;
    while (block >= this.first + this.hashes.length / HASH_BYTES) this.advance(block);
    if (block < this.first) throw new Error(`volume hashes looked up out of order (block ${block} after ${this.first})`);
    return this.hashes.readBigUInt64LE((block - this.first) * HASH_BYTES);
  }

  /** Reads the rest (the reader checks the trailer: a truncated or spliced state is an error). */
  finish(): void {
    let seen = this.first + this.hashes.length / HASH_BYTES;
    for (let r = this.records.next(); !r.done; r = this.records.next()) seen = this.take(r.value[1], seen);
    if (seen !== this.count) throw corrupt(this.state.file, `it holds hashes of ${seen} blocks, not ${this.count}`);
  }

  private advance(block: number): void {
    const r = this.records.next();
    if (r.done) throw corrupt(this.state.file, `it ends before the hash of block ${block}`);
    this.take(r.value[1], this.first + this.hashes.length / HASH_BYTES);
  }

  /** Makes a hash record current; returns the block just past it. */
  private take(record: unknown, expected: number): number {
    const rec = record as Partial<VolumeHashRecord>;
    if (rec.first !== expected || !(rec.hashes instanceof Uint8Array) || rec.hashes.length % HASH_BYTES !== 0 || rec.hashes.length === 0) {
      throw corrupt(this.state.file, `a hash record does not continue at block ${expected}`);
    }
    this.first = rec.first;
    this.hashes = Buffer.from(rec.hashes.buffer, rec.hashes.byteOffset, rec.hashes.length);
    return this.first + this.hashes.length / HASH_BYTES;
  }
}

/** Collects new hashes in block order into records of the new state. */
class HashRecords {
  private buf = Buffer.allocUnsafe(HASHES_PER_RECORD * HASH_BYTES);
  private first = 0;
  private used = 0;

  constructor(private readonly writer: StateWriter) {}

  put(block: number, hash: bigint): void {
    if (block !== this.first + this.used) throw new Error(`volume hashes made out of order (block ${block}, expected ${this.first + this.used})`);
    this.buf.writeBigUInt64LE(hash, this.used * HASH_BYTES);
    if (++this.used === HASHES_PER_RECORD) this.flush();
  }

  flush(): void {
    if (this.used === 0) return;
    this.writer.add({ first: this.first, hashes: this.buf.subarray(0, this.used * HASH_BYTES) } satisfies VolumeHashRecord);
    this.first += this.used;
    this.used = 0;
  }
}

/** Opens the volume read-only without following a symlink (ROOT's own symlink is resolved first); O_NOATIME where allowed. */
function openVolume(root: ScanRoot): { fd: number; st: Stats } {
  const fail = (err: unknown): RillError =>
    new RillError('io', `cannot open volume ${JSON.stringify(root.path)}: ${(err as Error).message}`, { path: root.path, cause: err, hint: 'run as a user who can read it' });
  let real: string;
  try {
    real = realpathSync(root.abs);
  } catch (err) {
    throw fail(err);
  }
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW;
  let fd: number;
  try {
    fd = openSync(real, flags | constants.O_NOATIME);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') throw fail(err);
    try {
      fd = openSync(real, flags); // O_NOATIME needs the file's owner or CAP_FOWNER
    } catch (err2) {
      throw fail(err2);
    }
  }
  const st = fstatSync(fd);
  if (BigInt(st.ino) !== root.st.ino || BigInt(st.dev) !== root.st.dev || !(st.isFile() || st.isBlockDevice())) {
    closeSync(fd);
    throw new RillError('io', `volume ${JSON.stringify(root.path)} was replaced while it was being opened`, { path: root.path, hint: 'capture again' });
  }
  return { fd, st };
}

/** Size of the open volume: st_size of a file, BLKGETSIZE64 of a block device. */
function volumeSize(fd: number, st: Stats): number {
  return st.isBlockDevice() ? sys.blockDeviceSize(fd) : st.size;
}

/** The first note of a volume capture: a volume read while in use is not a point in time. */
function liveVolumeNote(root: string, device: boolean, full: boolean): EventInput {
  return {
    type: 'note',
    code: 'live-scan',
    message:
      `${full ? 'full' : 'incremental'} scan of the ${device ? 'block device' : 'file'} ${showPath(root)} as a volume: it was read while ` +
      `it may have been in use, so this stream is not a consistent point in time unless the volume was quiescent (a note 'changed' marks a change seen while it was read)`,
  };
}

/**
 * The capture source of a volume. Events: a note (live-scan); truncate '' SIZE in a full stream or
 * when the size differs from the state's; write events for blocks whose hash changed (all data
 * blocks in a full stream) and punch events for blocks that became holes (every hole in a full
 * stream, and every hole past the old size, so a target that does not read as zeros there, such
 * as a block device, ends up exact); a commit event every commitEvery bytes of the volume and one
 * at the end; a note 'changed' when the volume changed size (or a file its mtime) while it was read.
 */
export function volumeCapture(root: ScanRoot, options: VolumeOptions): CaptureSource {
  const { plan, stateFile } = options;
  const bs = options.blockSize;
  if (!(bs >= 1) || !Number.isSafeInteger(bs)) throw new RangeError(`blockSize must be a positive integer, not ${bs}`);
  const commitEvery = Math.max(bs, options.commitEvery ?? COMMIT_EVERY);
  const { fd, st } = openVolume(root);
  const device = st.isBlockDevice();
  let size: number;
  let old: OldHashes | undefined;
  let writer: StateWriter | undefined;
  let closed = false;
  const close = (): void => {
    if (closed) return;
    closed = true;
    closeSync(fd);
    plan?.old?.close();
  };
  try {
    size = volumeSize(fd, st);
    const n = blockCount(size, bs);
    if (plan?.old !== undefined && !plan.full) old = new OldHashes(plan.old, n);
    if (plan !== undefined && stateFile !== undefined) {
      writer = new StateWriter(stateFile, stateHeader(root, plan, options.node, bs));
      writer.add({ size, blocks: n } satisfies VolumeSizeRecord);
    }
  } catch (err) {
    close();
    throw err;
  }
  const full = old === undefined;
  let finished = false;

  function* events(): Generator<EventInput> {
    try {
      yield liveVolumeNote(root.abs, device, full);
      if (full || old!.size !== size) yield { type: 'truncate', path: '', size };
      const n = blockCount(size, bs);
      // Unknown blocks (all in a full stream, those past the old size in a change set) are written
      // when they hold data and punched when they are holes.
      const known: HashLookup = old ?? { blocks: n, at: () => undefined };
      const records = writer === undefined ? undefined : new HashRecords(writer);
      const gen = blockEvents(
        fd,
        '',
        size,
        { blockSize: bs, chunkSize: options.chunkSize, pool: options.pool, allocated: device ? 0 : st.blocks * 512, zeroAsHole: true, onHash: (b, h) => records?.put(b, h) },
        { size: old?.size ?? size, hashes: known },
      );
      let nextCommit = commitEvery;
      let since = false; // events since the last commit
      for (;;) {
        let r: IteratorResult<EventInput, Buffer>;
        try {
          r = gen.next();
        } catch (err) {
          if (err instanceof RillError) throw err;
          throw new RillError('io', `cannot read volume ${JSON.stringify(root.path)}: ${(err as Error).message}`, { path: root.path, cause: err });
        }
        if (r.done) break;
        const e = r.value;
        const end = e.type === 'write' ? e.offset + e.data.length : e.type === 'punch' ? e.offset + e.length : 0;
        if (since && end > nextCommit) {
          yield { type: 'commit' };
          since = false;
        }
        while (end > nextCommit) nextCommit += commitEvery;
        yield e;
        since = true;
      }
      records?.flush();
      old?.finish();
      const now = fstatSync(fd);
      const after = volumeSize(fd, now);
      let why: string | undefined;
      if (after !== size) why = `its size went from ${size} to ${after} bytes; the stream holds the ${size} bytes as read`;
      else if (!device && (now.mtimeMs !== st.mtimeMs || now.ctimeMs !== st.ctimeMs)) why = 'it was written to (mtime moved): blocks are in the stream as they were when read';
      if (why !== undefined) {
        const p: ScanProblem = { code: 'changed', path: '', message: `volume changed while it was read: ${why}` };
        options.onProblem?.(p);
        yield { type: 'note', code: 'changed', path: '', message: p.message };
      }
      yield { type: 'commit' };
      finished = true;
    } finally {
      close();
    }
  }

  return {
    events: events(),
    commit(lastSeq) {
      if (!finished) throw new Error('volume capture committed before its events were all written');
      writer?.commit(lastSeq);
    },
    abort() {
      close();
      writer?.discard();
    },
  };
}
