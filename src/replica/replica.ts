// The replica being written: what the handlers share (confinement, the pending file, the cached fd,
// deferred directory metadata) and the transaction points (settle before an event, checkpoint, abort).
import { chmodSync, fchmodSync, fchownSync, lchownSync, lstatSync } from 'node:fs';
import { hostname } from 'node:os';
import { ioError } from '../errors.js';
import type { Event, EventType } from '../stream/events.js';
import { sys } from '../sys/native.js';
import type { Confine } from './confine.js';
import { Deferred, DEFERRED_LIMIT, type DeferredDir } from './deferred.js';
import { Durable } from './durable.js';
import { lookup } from './fsops.js';
import { OpenFile } from './open-file.js';
import { Pending } from './pending.js';
import { clearInflight, markInflight, readState, wasInflight, writeState, type ReplicaState } from './state.js';
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
}

/** Counts for the summary line. */
export interface ApplyStats {
  events: number;
  files: number;
  bytes: number;
  skipped: number;
  seconds: number;
}

/** Events that act on one file and keep the pending file / cached fd of their path open. */
const FILE_EVENTS = new Set<EventType>(['write', 'truncate', 'punch', 'chmod', 'chown', 'utimes', 'setxattr', 'removexattr', 'assert']);

/** The handlers' context while applying a stream to a real replica. */
export class Replica {
  readonly temps: TempNames;
  readonly durable: Durable;
  readonly pending: Pending;
  readonly open: OpenFile;
  readonly deferred = new Deferred();
  readonly applyOwner: boolean;
  readonly privileged: boolean;
  readonly verbose: boolean;
  readonly log: (line: string) => void;
  readonly stats: ApplyStats = { events: 0, files: 0, bytes: 0, skipped: 0, seconds: 0 };
  /** Last durable seq per source, from the state file at start and each state written since. */
  readonly progress = new Map<string, number>();
  /** Source and node of the stream being applied (from its header). */
  source = '';
  node = hostname();
  private ownerNoted: boolean;
  /** Events past the last recorded commit have been applied (the in-flight mark is set). */
  private inflight = false;
  private lastState: ReplicaState | undefined;
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
    removeStaleTemps(confine);
    this.lastState = readState(confine.root);
    if (this.lastState !== undefined) this.progress.set(this.lastState.source, this.lastState.lastSeq);
    if (wasInflight(confine)) {
      this.log(
        'warning: the last replay into this replica stopped in the middle of a transaction; its events are applied again, ' +
          'which is exact unless they renamed, linked or removed entries (then check with rill verify, or replay a full stream)',
      );
    }
    this.temps = new TempNames(confine, lstatSync(confine.abs(TMP_DIR)).dev);
    this.durable = new Durable(confine, options.fsync ?? false);
    this.pending = new Pending(confine, this.temps, this.durable);
    this.open = new OpenFile(confine, this.durable);
  }

  /** Finalizes the pending file and closes the cached fd unless the event continues on their path. */
  settle(e: Event): void {
    if (e.type === 'note') return;
    if (!this.inflight && e.type !== 'commit' && e.type !== 'bookmark') {
      markInflight(this.confine, this.lastState);
      this.inflight = true;
    }
    const path = FILE_EVENTS.has(e.type) ? (e as { path: string }).path : undefined;
    if (this.pending.path !== undefined && this.pending.path !== path) this.pending.finalize();
    if (this.open.path !== undefined && this.open.path !== path) this.open.close();
  }

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

  /** Records progress durably (at commit, bookmark and end). */
  saveState(lastSeq: number): ReplicaState {
    const state = { source: this.source, lastSeq, node: this.node, updated: new Date().toISOString() };
    writeState(this.confine, state);
    clearInflight(this.confine);
    this.inflight = false;
    this.lastState = state;
    this.progress.set(this.source, lastSeq);
    return state;
  }

  /** After an error: nothing half-made is exposed, no temp file is left behind. */
  abort(): void {
    try {
      this.pending.discard();
    } finally {
      this.open.close();
    }
  }

  private flushDeferred(): void {
    this.deferred.flush((path, item) => this.applyDeferred(path, item));
  }

  private applyDeferred(path: string, item: DeferredDir): void {
    const abs = this.confine.resolve(path, true);
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
