// The native FUSE layer as a child process: records come in on its fd 3, commands go out on its
// stdin, its messages go to our stderr. Reading stops while the consumer is busy, so a slow
// consumer fills the pipe and the layer's writers block (backpressure, never loss).
import { spawn, type ChildProcess } from 'node:child_process';
import { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { RillError } from '../../errors.js';
import { F_RING, RecordArena, RecordDecoder, REC, type NativeRecord } from './records.js';
import { PayloadRing } from './ring.js';

export interface LayerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Why: one handle on the native process: start, read records in order, send commands, stop. */
export class NativeLayer {
  readonly child: ChildProcess;
  private readonly records: Readable;
  /** The record channel read in place into arenas (undefined: read as a stream, see ArenaChannel.take). */
  private readonly channel: ArenaChannel | undefined;
  private readonly commands: Writable;
  private nextToken = 1;
  /** halt() was called: batches() ends (without waiting for the channel, which no longer flows). */
  private halted = false;
  readonly exited: Promise<LayerExit>;

  /** Where large write data comes through (undefined: all of it on the channel). */
  private readonly ring: PayloadRing | undefined;

  constructor(exe: string, root: string, mountpoint: string | undefined, options: string[] = []) {
    this.ring = PayloadRing.create();
    const ringArgs = this.ring === undefined ? [] : ['--ring-fd', '4'];
    const args = [...options, ...ringArgs, ...(mountpoint === undefined ? [root] : [root, mountpoint])];
    const stdio: ('pipe' | 'ignore' | 'inherit' | number)[] = ['pipe', 'ignore', 'inherit', 'pipe'];
    if (this.ring !== undefined) stdio.push(this.ring.fd!);
    try {
      this.child = spawn(exe, args, { stdio });
    } finally {
      this.ring?.closeFd(); // the layer has its own
    }
    this.records = this.child.stdio[3] as Readable;
    this.channel = ArenaChannel.take(this.records, this.ring);
    this.commands = this.child.stdin!;
    this.commands.on('error', () => {}); // the layer died: its exit says why
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => resolve({ code, signal }));
      this.child.once('error', () => resolve({ code: null, signal: null }));
    });
  }

  /** Every record, in the layer's order, until the pipe ends; a torn last record is an error. */
  async *read(): AsyncGenerator<NativeRecord> {
    for await (const batch of this.batches()) yield* batch;
  }

  /** The records in the layer's order, as they arrived together (one array per read: no trip through the event loop per record). */
  async *batches(): AsyncGenerator<NativeRecord[]> {
    if (this.channel !== undefined) {
      yield* this.channel.batches();
      return;
    }
    const decoder = new RecordDecoder(this.ring);
    try {
      for await (const chunk of this.records) {
        if (this.halted) return;
        const batch = decoder.push(chunk as Buffer);
        if (batch.length > 0) yield batch;
      }
    } catch (err) {
      if (this.halted) return; // halt() destroyed the stream
      throw err;
    }
    if (this.halted) return;
    if (decoder.leftover > 0) throw new RillError('io', `the FUSE layer's last record is incomplete (${decoder.leftover} bytes): it died while writing it`);
  }

  /** Sends a command (P pause, R resume, F flush times); the layer answers with a mark record carrying the token. */
  command(cmd: 'P' | 'R' | 'F'): number {
    const token = this.nextToken++;
    this.commands.write(`${cmd} ${token}\n`);
    return token;
  }

  /** Every COMMIT record up to this token is durable downstream: the fsyncs waiting for them return (--fsync-acks). */
  ack(token: bigint): void {
    this.commands.write(`A ${token}\n`);
  }

  /** Asks the layer to stop: it drains in-flight mutations, flushes times, unmounts and exits. */
  stop(): void {
    this.commands.end();
  }

  /** Stops reading records at once (the layer's writers block when the channel is full) and ends batches(): nothing more goes in that cannot be recorded. */
  halt(): void {
    this.halted = true;
    if (this.channel !== undefined) this.channel.halt();
    else this.records.destroy();
  }

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }

  /** After the last record was taken: the ring is no longer looked up (its memory goes with its last view). */
  dispose(): void {
    this.ring?.dispose();
  }
}

export const isMark = (r: NativeRecord): boolean => r.op === REC.mark;
export const isReady = (r: NativeRecord): boolean => r.op === REC.ready;

/** Records waiting for the consumer before reading stops (backpressure: the layer's writers then block). Kept small: what is read but not yet in the journal is lost with it if the capture dies (or the journal disk is full), with the channel's 1-2 MiB. */
const QUEUE_BYTES = 1024 * 1024;
/** What a record read counts against QUEUE_BYTES: its data is Node's memory unless it lies in the payload ring (which bounds it itself). */
const queuedBytes = (r: NativeRecord): number => ((r.flags & F_RING) !== 0 ? 64 : r.payload.length + 64);
/** A read of less than this that emptied the channel is followed by a pause of PACE_MS before the next (see ArenaChannel.onRead). */
const PACE_BYTES = 64 * 1024;
const PACE_MS = 1;

/**
 * Why: a stream socket reads 64 KiB at a time into fresh buffers, and 1 MiB records then had to be
 * joined. This reads the channel with the socket's onread option into RecordArena's room instead:
 * reads as large as what is waiting, records as views without a copy. The channel socket that spawn
 * made is replaced by one on the same handle (taken before the event loop could read from it).
 */
class ArenaChannel {
  private readonly arena: RecordArena;
  private readonly queue: NativeRecord[][] = [];
  private queued = 0;
  /** Reading stopped: the consumer is behind. */
  private paused = false;
  /** Reading stopped for PACE_MS after a small read. */
  private pacing = false;
  private ended = false;
  private halted = false;
  private failure: Error | undefined;
  private wake: (() => void) | undefined;
  private readonly socket: Socket;

  /** Takes over spawn's socket of the channel; undefined when this Node's socket cannot be taken (then it stays a stream). */
  static take(stream: Readable, ring: PayloadRing | undefined): ArenaChannel | undefined {
    const old = stream as Socket & { _handle?: { useUserBuffer?: unknown } | null };
    const handle = old._handle;
    if (!(old instanceof Socket) || handle == null || typeof handle.useUserBuffer !== 'function') return undefined;
    old._handle = null; // so destroying it below does not close the handle
    const ch = new ArenaChannel(handle, ring);
    old.destroy();
    return ch;
  }

  private constructor(handle: object, ring: PayloadRing | undefined) {
    this.arena = new RecordArena(undefined, ring);
    this.socket = new Socket({
      handle,
      readable: true,
      writable: false,
      onread: { buffer: () => this.arena.space(), callback: (n: number, buf: Buffer) => this.onRead(n, n < buf.length) },
    } as ConstructorParameters<typeof Socket>[0] & { handle: object });
    const done = (err?: Error): void => {
      if (err !== undefined) this.failure ??= err;
      this.ended = true;
      this.poke();
    };
    this.socket.on('end', () => done());
    this.socket.on('close', () => done());
    this.socket.on('error', (err) => done(err));
    this.socket.resume(); // flowing, so the end of the channel is seen
  }

  /** n bytes came; drained: fewer than there was room for (the channel is empty). */
  private onRead(n: number, drained: boolean): boolean {
    /** What the read brought: its bytes, and the write data it points at in the payload ring. */
    let brought = n;
    try {
      const records = this.arena.filled(n);
      if (records.length > 0) {
        this.queue.push(records);
        for (const r of records) this.queued += queuedBytes(r);
        for (const r of records) if ((r.flags & F_RING) !== 0) brought += r.payload.length;
        this.poke();
      }
    } catch (err) {
      this.failure ??= err as Error;
      this.poke();
      this.socket.destroy();
      return false;
    }
    // false stops reading the handle (and leaves the stream's state alone: cheaper than pause());
    // socket.resume() starts it again
    if (this.queued >= QUEUE_BYTES) {
      this.paused = true; // until the consumer has taken half of it
      return false;
    }
    if (drained && brought < PACE_BYTES) {
      // Records trickling in a few per read cost a wakeup, a read, a writev and a turn of the event
      // loop each few; a millisecond's pause lets them gather in the channel (1 MiB) and go through
      // as a larger batch (random 4 KiB writes: ~12% less CPU, measured through noise). The channel
      // was empty, so the layer does not wait for us meanwhile unless 1 MiB comes within the pause.
      this.pacing = true;
      setTimeout(() => {
        this.pacing = false;
        this.resume();
      }, PACE_MS);
      return false;
    }
    return true;
  }

  /** Reads no more, for good. */
  halt(): void {
    this.halted = true;
    this.socket.pause();
    this.poke(); // batches() ends: a paused socket never says it ended
  }

  private resume(): void {
    if (!this.halted && !this.paused && !this.pacing && !this.ended && !this.socket.destroyed) this.socket.resume();
  }

  private poke(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }

  async *batches(): AsyncGenerator<NativeRecord[]> {
    try {
      for (;;) {
        if (this.halted) return;
        const batch = this.queue.shift();
        if (batch !== undefined) {
          for (const r of batch) this.queued -= queuedBytes(r);
          if (this.paused && this.queued < QUEUE_BYTES / 2) {
            this.paused = false;
            this.resume();
          }
          yield batch;
          continue;
        }
        if (this.failure !== undefined) throw this.failure;
        if (this.ended) break;
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
      if (this.arena.leftover > 0) throw new RillError('io', `the FUSE layer's last record is incomplete (${this.arena.leftover} bytes): it died while writing it`);
    } finally {
      if (!this.ended) this.socket.destroy();
    }
  }
}
