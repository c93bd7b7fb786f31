// The replica being written: what the handlers share (confinement, the pending file, the cached fd,
// deferred directory metadata) and the transaction points (settle before an event, mark after it,
// checkpoint, abort).
import { chmodSync, fchmodSync, fchownSync, lchownSync, lstatSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { ioError } from '../errors.js';
import type { Event, EventType, Header } from '../stream/events.js';
import { sys } from '../sys/native.js';
import { lockFile, type FileLock } from '../sys/lock.js';
import { STASH_DIR, STATE_DIR, type Confine } from './confine.js';
import { Deferred, DEFERRED_LIMIT, type DeferredDir } from './deferred.js';
import { Durable } from './durable.js';
import { lookup } from './fsops.js';
import { appliedFrom, checkHeader, sameStream, streamCreated, type Applied } from './lineage.js';
import { OpenFile } from './open-file.js';
import { Pending } from './pending.js';
import { Progress } from './progress.js';
import { readState, writeState, type ReplicaState } from './state.js';
import { Sweep } from './sweep.js';
import { TempNames, TMP_DIR, removeStaleTemps } from './temp.js';

/** How a replay behaves; every field has a default. */
export interface ApplyOptions {
  /** Print what would change instead of changing anything (ROOT is not even created). */
  dryRun?: boolean;
  /** Apply chown events (default: when running as root). */
  owner?: boolean;
  /** Permission bits do not bind replay (default: running as root); else u+wx is kept on directories until commit. */
  privileged?: boolean;
  /** Notes and bookmarks on the log. */
  verbose?: boolean;
  /** fsync files and directories at commits (default: only the state file). */
  fsync?: boolean;
  /** Where messages for people go, one line each (default: stderr). */
  log?: (line: string) => void;
  /** Where --dry-run lines go (default: stdout). */
  print?: (line: string) => void | Promise<void>;
  /** Apply a stream of another source than the replica's (a full one takes the replica over). */
  force?: boolean;
  /** Called after progress is recorded durably (replay --ack acknowledges it to ship). */
  onDurable?: (source: string, seq: number) => void;
  /** True when the input was cut on purpose (replay --until): a stream left open is not a truncation. */
  stoppedEarly?: () => boolean;
}

/** Counts for the summary line. */
export interface ApplyStats {
  events: number;
  files: number;
  bytes: number;
  skipped: number;
  seconds: number;
}

/** Root-relative path of the lock a replay holds while it applies. */
const LOCK_FILE = `${STATE_DIR}/lock`;

/** Events that act on one file and keep the pending file / cached fd of their path open. */
const FILE_EVENTS = new Set<EventType>(['write', 'truncate', 'punch', 'chmod', 'chown', 'utimes', 'setxattr', 'removexattr', 'assert']);
/** Events that change names: marked as applied as soon as they are, since applying them twice is not exact. */
const NAMESPACE_EVENTS = new Set<EventType>(['mkdir', 'rename', 'link', 'unlink', 'rmdir', 'symlink', 'mknod']);

/** The handlers' context while applying a stream to a real replica. */
export class Replica {
  readonly temps: TempNames;
  readonly durable: Durable;
  readonly pending: Pending;
  readonly open: OpenFile;
  readonly marks: Progress;
  readonly deferred: Deferred;
  readonly applyOwner: boolean;
  readonly privileged: boolean;
  readonly verbose: boolean;
  readonly log: (line: string) => void;
  private readonly onDurable: ((source: string, seq: number) => void) | undefined;
  private readonly lock: FileLock;
  readonly stats: ApplyStats = { events: 0, files: 0, bytes: 0, skipped: 0, seconds: 0 };
  /** What the replica has applied: state.json, or the mark of a replay that stopped between commits. */
  applied: Applied | undefined;
  /** Source and node of the stream being applied (from its header). */
  source = '';
  /** Which stream of the source is being applied: its header's `created` (decimal ns). */
  created: string | undefined;
  node = hostname();
  /** The sweep of the full stream being applied, if it is one. */
  full: Sweep | undefined;
  /** The rename a stopped replay was making (its mark says so): it may be made already. */
  private readonly interrupted: { source: string; created: string | undefined; seq: number } | undefined;
  /** The rename being made now (the mark says so until it is made). */
  private renaming: number | undefined;
  /** The stream being applied is not the one recorded: mark before its first event changes anything. */
  private announce = false;
  /** seq through which the stream being applied was applied before this run. */
  private through = -1;
  /** seq of the last event applied completely (the resume point before any). */
  private done = -1;
  /** seq the mark says, for the source being applied. */
  private marked = -1;
  private readonly force: boolean;
  private ownerNoted: boolean;
  private readonly warned = new Set<string>();

  constructor(
    readonly confine: Confine,
    options: ApplyOptions,
  ) {
    const root = process.geteuid?.() === 0;
    this.applyOwner = options.owner ?? root;
    this.ownerNoted = options.owner === false;
    this.privileged = options.privileged ?? root;
    this.verbose = options.verbose ?? false;
    this.log = options.log ?? ((line) => process.stderr.write(`rill replay: ${line}\n`));
    this.onDurable = options.onDurable;
    this.force = options.force ?? false;
    // One replay at a time: a sink of ship whose session died may still be running when the next one starts.
    this.lock = lockFile(confine.abs(LOCK_FILE).toString(), `replica ${JSON.stringify(confine.root)}`, 'another rill replay is applying a stream to it; wait for it to end (ship retries by itself)');
    removeStaleTemps(confine);
    const state = readState(confine.root);
    this.marks = new Progress(confine, state);
    this.deferred = new Deferred((op) => this.marks.journal(op));
    this.applied = appliedFrom(state, this.marks.previous);
    const previous = this.marks.previous;
    if (previous !== undefined) this.marks.rebuild(this.deferred);
    if (previous?.renaming !== undefined) this.interrupted = { source: previous.source, created: previous.created, seq: previous.renaming };
    if (this.marks.restarted) {
      this.log(
        `warning: the last replay into this replica stopped between commits, and the machine restarted since; the events after ${state === undefined ? 'its start' : `seq ${state.lastSeq}`} are applied again, ` +
          'which is exact unless they renamed, linked or removed entries (then check with rill verify, or replay a full stream)',
      );
    }
    this.temps = new TempNames(confine, lstatSync(confine.abs(TMP_DIR)).dev);
    this.durable = new Durable(confine, options.fsync ?? false);
    this.pending = new Pending(confine, this.temps, this.durable, this.replaceDir);
    this.open = new OpenFile(confine, this.durable);
  }

  /** A stream starts: refuses it if it does not fit; returns the seq through which its events were applied before. */
  header(h: Header): number {
    const through = checkHeader(h, this.applied, this.force, this.confine.root, this.log);
    if (this.applied !== undefined && this.applied.source !== h.source) {
      this.log(`note: --force: source ${h.source} replaces source ${this.applied.source} in this replica${h.full === true ? '' : ' (this stream is not a full one: entries it does not name stay)'}`);
    }
    this.source = h.source;
    this.created = streamCreated(h);
    // Until this stream's first mark, a replay of it that stopped would look like the recorded one's.
    this.announce = this.applied !== undefined && (this.applied.source !== h.source || this.applied.created !== this.created);
    this.node = h.node;
    this.through = through;
    this.done = through;
    this.marked = through;
    this.full = h.full === true ? new Sweep({ confine: this.confine, privileged: this.privileged, dirTimes: (p, a, m) => this.dirTimes(p, a, m), touched: (d) => this.durable.touched(d) }) : undefined;
    return through;
  }

  /** Finalizes the pending file and closes the cached fd unless the event continues on their path. */
  settle(e: Event): void {
    if (e.type === 'note') return;
    if (this.announce) {
      this.announce = false;
      this.mark(this.done);
    }
    const path = FILE_EVENTS.has(e.type) ? (e as { path: string }).path : undefined;
    // A new file put in place is not marked: applied again, its create replaces it whole, and what
    // came before it is data and metadata (exact to apply again) up to the last change of names,
    // which is marked. One pwrite per new file would cost about as much as the rename itself.
    if (this.pending.path !== undefined && this.pending.path !== path) this.pending.finalize();
    if (this.open.path !== undefined && this.open.path !== path) this.open.close();
    // Events since the mark must not be applied again after a change of names (a write to y, then
    // rename x to y): mark them before it. Then a kill can leave only that one change unmarked,
    // which is exact to make again, except a rename: the mark names it, so a rerun can tell it is made.
    if (e.type === 'rename') {
      this.renaming = e.seq;
      this.mark(this.done);
    } else if (NAMESPACE_EVENTS.has(e.type) && this.marked < this.done) {
      this.mark(this.done);
    }
  }

  /** After an event's handler: it is applied; a change of names is marked at once. */
  did(e: Event): void {
    this.done = e.seq;
    this.renaming = undefined;
    if (NAMESPACE_EVENTS.has(e.type)) this.mark(e.seq);
  }

  /** True for the rename a killed replay was making (its mark said so): it may be made already. */
  wasRenaming(seq: number): boolean {
    return this.interrupted?.source === this.source && this.interrupted.seq === seq && sameStream(this.interrupted.created, this.created);
  }

  private mark(seq: number): void {
    this.marks.mark(this.source, this.created, seq, this.renaming);
    this.marked = seq;
  }

  /** A directory stands where the stream puts a non-directory: only a full stream removes it. */
  readonly replaceDir = (path: string): boolean => this.full?.replaceDir(path) ?? false;

  /** fs path for a metadata operation on path: the pending temp file, or the confined replica path. */
  target(path: string): string | Buffer {
    return this.pending.lookup(path)?.tempAbs ?? this.confine.resolve(path, true);
  }

  /** A writable fd for data operations on path: the pending temp, or the existing regular file. */
  fd(path: string, doing: string): number {
    return this.pending.lookup(path)?.fd ?? this.open.fd(path, doing);
  }

  /** Sets a directory's mode; unprivileged, a mode without u+wx waits for the commit so replay can still fill it. */
  dirMode(path: string, abs: string | Buffer, mode: number): void {
    const lockedOut = !this.privileged && (mode & 0o300) !== 0o300;
    chmodSync(abs, (lockedOut ? mode | 0o700 : mode) & 0o7777);
    this.deferred.mode(path, lockedOut ? mode : undefined);
    if (this.deferred.size > DEFERRED_LIMIT) this.flushDeferred();
  }

  /** Owes a directory its times until the next commit (children created meanwhile would disturb them). */
  dirTimes(path: string, atime: bigint, mtime: bigint): void {
    this.deferred.times(path, atime, mtime);
    if (this.deferred.size > DEFERRED_LIMIT) this.flushDeferred();
  }

  /** chown that keeps setuid/setgid bits (the kernel clears them on chown of a file). */
  chown(path: string, uid: number, gid: number): void {
    if (!this.applyOwner) return this.noteOwner();
    const p = this.pending.lookup(path);
    if (p !== undefined) {
      fchownSync(p.fd, uid, gid);
      if ((p.mode & 0o6000) !== 0) fchmodSync(p.fd, p.mode);
      return;
    }
    const abs = this.confine.resolve(path, true);
    const st = lookup(abs);
    lchownSync(abs, uid, gid);
    if (st !== undefined && !st.isSymbolicLink() && (st.mode & 0o6000) !== 0) chmodSync(abs, st.mode & 0o7777);
  }

  /** Makes everything so far complete: pending file in place, fd closed, directory metadata applied, synced. */
  checkpoint(): void {
    this.pending.finalize();
    this.open.close();
    this.flushDeferred();
    this.durable.flush();
  }

  /**
   * A commit or bookmark: everything so far complete and recorded durably. While a full stream has
   * directories to sweep at its end, the commit itself is not recorded: a rerun applies it again
   * and so gets to that end (which it skips for a stream applied before).
   */
  commit(seq: number): void {
    this.checkpoint();
    this.saveState(this.full?.open === true ? seq - 1 : seq);
  }

  /**
   * The end of a stream: a full stream's last sweeps, then a commit; warns about a stash left full.
   * more (end.more): the rest of the stream is in a part this input lacks, so progress is recorded
   * but a full stream's final sweep is not done (the missing part may name more entries).
   */
  end(lastSeq: number, more = false): void {
    if (more) return this.endOfPart(lastSeq);
    this.full?.finish(lastSeq > this.through);
    this.commit(lastSeq);
    if (this.full !== undefined && this.verbose && this.full.removed > 0) this.log(`removed ${this.full.removed} entries the full stream does not name`);
    this.full = undefined;
    const stashed = readdirSync(this.confine.abs(STASH_DIR)).length;
    if (stashed > 0) {
      this.log(
        `warning: ${stashed} entries are left in ${this.confine.root}/${STASH_DIR}: a change set moved them there and did not restore them ` +
          '(the replica may lack them under their names; the next full stream removes them)',
      );
    }
  }

  /** An end{more}: what came is complete and recorded; entries a full stream has not finished with stay. */
  private endOfPart(lastSeq: number): void {
    const full = this.full !== undefined;
    this.checkpoint();
    this.saveState(lastSeq);
    this.full = undefined;
    this.log(
      `note: the stream of source ${this.source} goes on after seq ${lastSeq} in a part this input does not hold (end.more); progress is recorded` +
        (full ? ', and entries the full stream did not name are kept (its final sweep needs the whole stream)' : ''),
    );
  }

  /** Records progress durably (at commit, bookmark and end). */
  saveState(lastSeq: number): ReplicaState {
    const state = { source: this.source, lastSeq, node: this.node, updated: new Date().toISOString(), created: this.created };
    writeState(this.confine, state);
    this.onDurable?.(state.source, lastSeq);
    this.marks.committed();
    this.applied = { source: state.source, seq: lastSeq, node: state.node, updated: state.updated, created: state.created };
    this.done = lastSeq;
    this.marked = lastSeq;
    return state;
  }

  /** After an error: nothing half-made is exposed, no temp file is left behind. */
  abort(): void {
    try {
      this.pending.discard();
      // A rename that failed was not made: a rerun must not take it for made.
      if (this.renaming !== undefined) {
        this.renaming = undefined;
        this.mark(this.marked);
      }
    } finally {
      this.open.close();
    }
  }

  /** Releases the progress files (after the end or an error). */
  close(): void {
    try {
      this.marks.close();
    } finally {
      this.lock.release();
    }
  }

  private flushDeferred(): void {
    this.deferred.flush((path, item) => this.applyDeferred(path, item));
    if (this.marks.flushed(this.source, this.created, this.done)) this.marked = this.done;
  }

  private applyDeferred(path: string, item: DeferredDir): void {
    // Inside the stash (a stashed directory, moved there by a rename) no stream path reaches it.
    const abs = path.startsWith(`${STASH_DIR}/`) ? this.confine.abs(path) : this.confine.resolve(path, true);
    try {
      if (!lookup(abs)?.isDirectory()) return; // gone or replaced since: nothing owed
      if (item.mode !== undefined) chmodSync(abs, item.mode & 0o7777);
      if (item.mtime !== undefined) sys.utimens(abs, item.atime!, item.mtime);
    } catch (err) {
      throw ioError('cannot set directory metadata of', path, err);
    }
  }

  /** Logs a message the first time its key is seen. */
  warnOnce(key: string, line: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.log(line);
  }

  private noteOwner(): void {
    if (this.ownerNoted) return;
    this.ownerNoted = true;
    this.log('note: not running as root, so ownership is not applied (chown events skipped); pass --owner to try anyway, --no-owner to silence this');
  }
}

