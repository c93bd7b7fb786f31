// Exact resume after kill -9 between commits. ROOT/.rill/inflight holds one fixed-size record, "source S
// applied through seq N from its stream created C, deferred log length L" (one JSON object padded
// with spaces; C, the header's `created`, is absent from marks of older versions: unknown),
// overwritten in place before the first event applied of a stream other than the recorded one and
// after every namespace change (and every new file put in place); ROOT/.rill/deferred.log journals
// the directory metadata owed until the next commit (deferred.ts), whose first L bytes rebuild it.
// Neither file is fsynced: the page cache survives a killed process, and across a power failure
// only commits (state.json) are durable, so a mark written before the machine restarted is not trusted.
import { closeSync, constants, fstatSync, ftruncateSync, openSync, readFileSync, readSync, writeSync } from 'node:fs';
import { ioError } from '../errors.js';
import { STATE_DIR, type Confine } from './confine.js';
import type { Deferred, DeferredOp } from './deferred.js';
import { sameStream } from './lineage.js';
import { isCreated, type ReplicaState } from './state.js';

/** Root-relative path of the progress mark. */
export const INFLIGHT_FILE = `${STATE_DIR}/inflight`;
/** Root-relative path of the journal of owed directory metadata. */
export const DEFERRED_LOG = `${STATE_DIR}/deferred.log`;

/** Where a replay that stopped between commits got to. */
export interface Mark {
  source: string;
  /** `created` of the stream being applied (ns since the epoch, decimal); undefined: unknown (an older mark). */
  created?: string;
  /** Every event of source up to this seq is applied completely. */
  seq: number;
  /** Bytes of deferred.log that belong to those events. */
  log: number;
  /** A rename being made when the mark was written: after a kill it may be made or not. */
  renaming?: number;
}

/** The smallest record; longer source ids make records a multiple of it. */
const RECORD = 256;
const OPEN = constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW;

const bootId = ((): string => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
})();

/** The mark file and the deferred log of one replica, open for the whole replay. */
export class Progress {
  /** The mark a stopped replay left past the last commit; undefined when none is live. */
  readonly previous: Mark | undefined;
  /** A mark was found but written before the machine restarted, so it was ignored. */
  readonly restarted: boolean;
  private readonly markFd: number;
  private readonly logFd: number;
  private logLength = 0;
  /** The mark file holds a record not yet superseded by state.json. */
  private markSet: boolean;
  private buf = Buffer.alloc(RECORD);
  private prefixFor = '';
  private prefix = '';

  constructor(
    private readonly confine: Confine,
    state: ReplicaState | undefined,
  ) {
    this.markFd = open(confine, INFLIGHT_FILE);
    this.logFd = open(confine, DEFERRED_LOG);
    const found = parseMark(this.read());
    const stale = found !== undefined && isStale(found, state);
    this.restarted = found !== undefined && !stale && found.boot !== bootId;
    this.previous = found === undefined || stale || this.restarted ? undefined : found;
    this.markSet = this.previous !== undefined;
    // The log beyond the mark belongs to events that are applied again; without a live mark, all of it.
    this.logLength = Math.min(this.previous?.log ?? 0, fstatSync(this.logFd).size);
    this.truncate(this.logFd, DEFERRED_LOG, this.logLength);
    if (found !== undefined && this.previous === undefined) this.truncate(this.markFd, INFLIGHT_FILE, 0);
  }

  /**
   * Records that every event of source up to seq is applied (from its stream created `created`),
   * and maybe the rename being made (one pwrite, no fsync).
   */
  mark(source: string, created: string | undefined, seq: number, renaming?: number): void {
    const key = `${source}\n${created ?? ''}`;
    if (this.prefixFor !== key) {
      const stream = created === undefined ? '' : `"created":${JSON.stringify(created)},`;
      this.prefix = `{"boot":${JSON.stringify(bootId)},"source":${JSON.stringify(source)},${stream}"seq":`;
      this.prefixFor = key;
    }
    const text = `${this.prefix}${seq},"log":${this.logLength}${renaming === undefined ? '' : `,"renaming":${renaming}`}}`;
    const need = Buffer.byteLength(text) + 1;
    if (need > this.buf.length) this.buf = Buffer.alloc(Math.ceil(need / RECORD) * RECORD);
    const n = this.buf.write(text, 0);
    this.buf.fill(0x20, n, this.buf.length - 1);
    this.buf[this.buf.length - 1] = 0x0a;
    try {
      writeSync(this.markFd, this.buf, 0, this.buf.length, 0);
    } catch (err) {
      throw ioError('cannot write', `${this.confine.root}/${INFLIGHT_FILE}`, err);
    }
    this.markSet = true;
  }

  /** Appends one change of the deferred set to the log (no fsync). */
  journal(op: DeferredOp): void {
    const line = Buffer.from(`${JSON.stringify(op, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))}\n`);
    try {
      let done = 0;
      while (done < line.length) done += writeSync(this.logFd, line, done, line.length - done, this.logLength + done);
    } catch (err) {
      throw ioError('cannot write', `${this.confine.root}/${DEFERRED_LOG}`, err);
    }
    this.logLength += line.length;
  }

  /** Rebuilds the deferred set a stopped replay owed at its mark (log bytes up to the mark's length). */
  rebuild(deferred: Deferred): void {
    const chunk = Buffer.alloc(1 << 20);
    let at = 0;
    let rest = Buffer.alloc(0);
    while (at < this.logLength) {
      const n = readSync(this.logFd, chunk, 0, Math.min(chunk.length, this.logLength - at), at);
      if (n === 0) break;
      at += n;
      // Lines are split as bytes: a chunk may end inside a multi-byte character.
      let text = Buffer.concat([rest, chunk.subarray(0, n)]);
      for (let nl = text.indexOf(0x0a); nl >= 0; nl = text.indexOf(0x0a)) {
        deferred.replay(parseOp(text.toString('utf8', 0, nl)));
        text = text.subarray(nl + 1);
      }
      rest = Buffer.from(text);
    }
  }

  /**
   * The deferred set was applied and emptied: the log starts over. The mark is rewritten at once
   * (seq: the last event applied completely), so a log length never counts entries of another log.
   * True when the mark was written.
   */
  flushed(source: string, created: string | undefined, seq: number): boolean {
    if (this.logLength === 0) return false;
    this.logLength = 0;
    this.truncate(this.logFd, DEFERRED_LOG, 0);
    if (!this.markSet) return false;
    this.mark(source, created, seq);
    return true;
  }

  /** state.json now records a commit: the mark and the log are superseded. */
  committed(): void {
    if (this.markSet) this.truncate(this.markFd, INFLIGHT_FILE, 0);
    if (this.logLength > 0) this.truncate(this.logFd, DEFERRED_LOG, 0);
    this.markSet = false;
    this.logLength = 0;
  }

  close(): void {
    closeSync(this.markFd);
    closeSync(this.logFd);
  }

  private read(): string {
    const buf = Buffer.alloc(Math.min(fstatSync(this.markFd).size, 1 << 16));
    const n = buf.length === 0 ? 0 : readSync(this.markFd, buf, 0, buf.length, 0);
    return buf.toString('utf8', 0, n);
  }

  private truncate(fd: number, file: string, length: number): void {
    try {
      ftruncateSync(fd, length);
    } catch (err) {
      throw ioError('cannot truncate', `${this.confine.root}/${file}`, err);
    }
  }
}

function open(confine: Confine, file: string): number {
  try {
    return openSync(confine.abs(file), OPEN, 0o600);
  } catch (err) {
    throw ioError('cannot open', `${confine.root}/${file}`, err);
  }
}

function parseOp(line: string): DeferredOp {
  const o = JSON.parse(line) as DeferredOp & { atime?: string; mtime?: string };
  return o.op === 'times' ? { op: 'times', path: o.path, atime: BigInt(o.atime!), mtime: BigInt(o.mtime!) } : o;
}

/** A mark record, or undefined when the text is none (empty, torn, foreign). */
function parseMark(text: string): (Mark & { boot: string }) | undefined {
  const line = text.split('\n', 1)[0]!.trim();
  if (line === '') return undefined;
  try {
    const m = JSON.parse(line) as Mark & { boot: string };
    const ok = typeof m.source === 'string' && typeof m.boot === 'string' && Number.isSafeInteger(m.seq) && Number.isSafeInteger(m.log) && m.log >= 0;
    if (ok && (m.renaming === undefined || Number.isSafeInteger(m.renaming)) && (m.created === undefined || isCreated(m.created))) return m;
  } catch {
    // not a mark
  }
  return undefined;
}

/**
 * A mark that state.json has superseded (a commit recorded since it was written). A mark of another
 * stream of the source is newer than the state, whatever its seq: it was written after the state's
 * last commit, by a replay of a stream that stopped.
 */
function isStale(m: Mark, state: ReplicaState | undefined): boolean {
  return m.source === state?.source && sameStream(m.created, state.created) && Math.max(m.seq, m.renaming ?? -1) <= state.lastSeq;
}

/** The live mark of a replica, read without changing anything (for --dry-run). */
export function peekMark(root: string, state: ReplicaState | undefined): Mark | undefined {
  let text: string;
  try {
    const fd = openSync(`${root}/${INFLIGHT_FILE}`, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      text = readFileSync(fd, 'utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  const m = parseMark(text);
  return m === undefined || m.boot !== bootId || isStale(m, state) ? undefined : m;
}
