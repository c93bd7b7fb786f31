// The sink's half of the session: the hello first, then an ack after each durable point, and an
// error record when it stops on one. Written to stdout, which the transport carries back to ship.
import type { Writable } from 'node:stream';
import { controlBytes, helloBytes, type Hello, type SinkError } from './session.js';

/** Writes a sink's control records in order; acks that do not advance are not repeated. */
export class Upstream {
  private last: { source: string; seq: number } | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly out: Writable = process.stdout) {}

  /** The signature and the hello: sent before anything is read from the stream. */
  hello(h: Pick<Hello, 'role' | 'node' | 'source' | 'seq'>): void {
    this.out.write(helloBytes(h));
    if (h.source !== null && h.seq !== null) this.last = { source: h.source, seq: h.seq };
  }

  /** Sends an alive record every `ms` until stop(), so ship can tell a slow sink from a dead link. */
  keepAlive(ms = 1000): void {
    this.timer ??= setInterval(() => this.out.write(controlBytes({ t: 'alive' })), ms);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Events of source through seq are durable. */
  ack(source: string, seq: number): void {
    if (this.last !== undefined && this.last.source === source && this.last.seq >= seq) return;
    this.last = { source, seq };
    this.out.write(controlBytes({ t: 'ack', source, seq }));
  }

  /** The sink stops on an error: tell ship why and with which exit status. */
  error(kind: SinkError['kind'], exit: number, message: string): void {
    this.out.write(controlBytes({ t: 'error', kind, exit, message }));
  }
}
