// The native FUSE layer as a child process: records come in on its fd 3, commands go out on its
// stdin, its messages go to our stderr. Reading stops while the consumer is busy, so a slow
// consumer fills the pipe and the layer's writers block (backpressure, never loss).
import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { RillError } from '../../errors.js';
import { RecordDecoder, REC, type NativeRecord } from './records.js';

export interface LayerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Why: one handle on the native process: start, read records in order, send commands, stop. */
export class NativeLayer {
  readonly child: ChildProcess;
  private readonly records: Readable;
  private readonly commands: Writable;
  private nextToken = 1;
  readonly exited: Promise<LayerExit>;

  constructor(exe: string, root: string, mountpoint: string | undefined, options: string[] = []) {
    const args = [...options, ...(mountpoint === undefined ? [root] : [root, mountpoint])];
    this.child = spawn(exe, args, { stdio: ['pipe', 'ignore', 'inherit', 'pipe'] });
    this.records = this.child.stdio[3] as Readable;
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
    const decoder = new RecordDecoder();
    for await (const chunk of this.records) {
      const batch = decoder.push(chunk as Buffer);
      if (batch.length > 0) yield batch;
    }
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

  kill(): void {
    if (this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}

export const isMark = (r: NativeRecord): boolean => r.op === REC.mark;
export const isReady = (r: NativeRecord): boolean => r.op === REC.ready;
