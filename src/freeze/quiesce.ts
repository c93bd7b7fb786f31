// The two ways to hold a file system still: FIFREEZE on its mount (any file system that supports
// it, guarded by a watchdog process), or pause on the control socket of a capture --mount over it
// (the capture resumes by itself at the deadline or when this connection closes).
import { resolve } from 'node:path';
import { RillError } from '../errors.js';
import { ControlClient } from '../control/client.js';
import { MAX_PAUSE_MS } from '../control/protocol.js';
import { closeMountPoint, describeFs, freezeAt, openMountPoint, thawAt } from './fifreeze.js';
import { fileSystemOf, isBelow, type FileSystem } from './mounts.js';
import { checkNotRoot, checkNotWritten, outputsOn, writtenByCommand, type Written } from './safety.js';
import { Watchdog } from './watchdog.js';

/** One way of quiescing; every method may be called once, in order; thawNow at any time. */
export interface Quiescer {
  /** What is frozen, for messages ("/srv (xfs on /dev/vdb)"). */
  readonly label: string;
  /** RILL_ROOT for hooks and CMD: the path given, absolute. */
  readonly root: string;
  /** RILL_MOUNT: the mount point of the file system frozen, or the root of the capture paused. */
  readonly mount: string;
  /** Before the pre hooks: the checks that may refuse. */
  check(command: string[] | undefined): Promise<void>;
  /** What must run before the deadline starts (the watchdog). */
  prepare(timeoutMs: number): Promise<void>;
  /** Holds writes; returns when they are held. */
  freeze(timeoutMs: number): Promise<void>;
  /** A bookmark at the cut, by the capture itself (mount mode); undefined when this quiescer has no capture to ask. */
  bookmark?(name: string): Promise<number>;
  /** Set when the guard of the thaw went away while frozen (then it was thawed at once): why. */
  readonly lost?: string;
  /** A process group to stop if rill dies while frozen. */
  watchGroup(pgid: number): void;
  /** Releases the writes (idempotent). False when someone else (the watchdog, the capture's deadline) had already. */
  thaw(): Promise<boolean>;
  /** Releases at once, synchronously (signal handlers, the deadline). */
  thawNow(): void;
  /** Resources left after thaw (idempotent). */
  close(): Promise<void>;
}

/** FIFREEZE on the file system holding path, with a watchdog process. */
export class FsFreeze implements Quiescer {
  readonly fs: FileSystem;
  readonly root: string;
  readonly mount: string;
  readonly label: string;
  /** The path was not the mount point: the message freeze prints. */
  readonly note: string | undefined;
  private fd = -1;
  private frozen = false;
  private thawedBySelf = false;
  private watchdog: Watchdog | undefined;

  constructor(path: string, private readonly force: boolean) {
    const fs = fileSystemOf(path);
    this.fs = fs;
    this.root = fs.real;
    this.mount = fs.mountPoint;
    this.label = describeFs(fs);
    this.note = fs.isMountPoint ? undefined : `${JSON.stringify(path)} is not a mount point: freezing the file system that holds it, ${this.label}`;
  }

  async check(command: string[] | undefined): Promise<void> {
    checkNotRoot(this.fs, this.force);
    const places: Written[] = [...outputsOn(this.fs)];
    if (command !== undefined) {
      places.push(...writtenByCommand(command));
      const tmp = process.env.TMPDIR ?? '/tmp';
      places.push({ path: tmp, what: 'the temporary directory (TMPDIR) the command may write' });
    }
    checkNotWritten(this.fs, places);
  }

  lost: string | undefined;

  async prepare(timeoutMs: number): Promise<void> {
    const dog = await Watchdog.start(this.fs.mountPoint, timeoutMs, this.label);
    this.watchdog = dog;
    this.fd = openMountPoint(this.fs);
    // Nothing would guarantee the thaw any more: thaw now.
    void dog.exited.then((code) => {
      if (!this.frozen || dog.firedAtDeadline) return;
      this.lost = `the freeze watchdog (pid ${dog.pid}) ended (status ${code}) while ${this.label} was frozen`;
      process.stderr.write(`rill freeze: ${this.lost}; thawing at once\n`);
      this.thawNow();
    });
  }

  async freeze(): Promise<void> {
    if (this.watchdog === undefined) throw new Error('internal: freeze before prepare');
    this.watchdog.arm();
    this.frozen = true; // from here on a thaw is owed, even if FIFREEZE is still syncing
    try {
      freezeAt(this.fd, this.fs);
    } catch (err) {
      this.frozen = false;
      throw err;
    }
  }

  watchGroup(pgid: number): void {
    this.watchdog?.watchGroup(pgid);
  }

  thawNow(): void {
    if (!this.frozen) return;
    this.frozen = false;
    this.thawedBySelf = thawAt(this.fd, this.fs);
  }

  async thaw(): Promise<boolean> {
    this.thawNow();
    return this.thawedBySelf;
  }

  /** The watchdog thawed it at the deadline (it said so before exiting). */
  get watchdogFired(): boolean {
    return this.watchdog?.firedAtDeadline === true;
  }

  /** The watchdog ended while the file system was frozen: nothing guarantees the thaw. */
  get watchdogLost(): boolean {
    return this.frozen && this.watchdog !== undefined && !this.watchdog.alive;
  }

  /** Resolves when the watchdog process ends (so freeze can thaw at once if it dies). */
  get watchdogExited(): Promise<number> | undefined {
    return this.watchdog?.exited;
  }

  async close(): Promise<void> {
    if (this.frozen) this.thawNow();
    await this.watchdog?.release();
    if (this.fd >= 0) closeMountPoint(this.fd);
    this.fd = -1;
  }
}

/** pause on the control socket of the capture --mount over the root. */
export class ControlPause implements Quiescer {
  readonly root: string;
  mount: string;
  label: string;
  private client: ControlClient | undefined;
  private paused = false;
  /** seq of the cut (the pause reply). */
  cutSeq: number | undefined;

  constructor(private readonly socket: string, private readonly path: string) {
    this.root = resolve(path);
    this.mount = this.root;
    this.label = `the capture of ${this.root} (control socket ${socket})`;
  }

  async check(): Promise<void> {
    this.client = await ControlClient.connect(this.socket);
    const st = await this.client.status();
    this.mount = st.root;
    this.label = `the capture --mount of ${st.root} (control socket ${this.socket})`;
    if (!isBelow(resolve(this.path), st.root)) {
      throw new RillError('usage', `${JSON.stringify(this.path)} is not under ${st.root}, the root of the capture at control socket ${JSON.stringify(this.socket)}`, { path: this.path });
    }
    if (st.journal !== null && isBelow(resolve(st.journal), st.root)) {
      throw new RillError('unsafe', `refusing to pause ${this.label}: its journal ${st.journal} is inside the paused mount (its own writes would wait for the resume)`, { path: st.journal });
    }
  }

  async prepare(timeoutMs: number): Promise<void> {
    if (timeoutMs > MAX_PAUSE_MS) throw new RillError('usage', `--timeout ${timeoutMs / 1000} is longer than a capture pauses (${MAX_PAUSE_MS / 1000} s at most)`);
  }

  async freeze(timeoutMs: number): Promise<void> {
    if (timeoutMs > MAX_PAUSE_MS) throw new RillError('usage', `--timeout ${timeoutMs / 1000} is longer than a capture pauses (${MAX_PAUSE_MS / 1000} s at most)`);
    const r = await this.client!.request({ op: 'pause', timeoutMs });
    this.paused = true;
    this.cutSeq = r.seq;
  }

  async bookmark(name: string): Promise<number> {
    const r = await this.client!.request({ op: 'bookmark', name, consistent: true });
    return r.seq;
  }

  watchGroup(): void {
    // The capture's own deadline and the connection's end guard the pause.
  }

  thawNow(): void {
    if (!this.paused) return;
    this.paused = false;
    this.client?.close(); // the capture resumes when the connection that paused it closes
  }

  async thaw(): Promise<boolean> {
    if (!this.paused) return false;
    this.paused = false;
    try {
      await this.client!.request({ op: 'resume' });
      return true;
    } finally {
      this.client!.close();
    }
  }

  async close(): Promise<void> {
    this.thawNow();
    this.client?.close();
  }
}
