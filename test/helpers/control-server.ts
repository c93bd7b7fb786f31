// A small server of the control protocol (src/control/protocol.ts), for testing clients until the
// real one (rill capture --mount --control) can stand in: the pause bound to its connection, resumed
// at the deadline or when the connection closes, bookmarks numbered on from a seq; and misbehaviour
// on demand (never answer, answer garbage, refuse).
import { createServer, type Server, type Socket } from 'node:net';
import { rmSync } from 'node:fs';
import type { ControlReply, ControlRequest } from '../../src/control/protocol.js';

export type Behaviour = 'normal' | 'silent' | 'garbage' | { refuse: ControlRequest['op']; code: 'usage' | 'denied' | 'busy' | 'internal'; error: string };

export interface ControlServerOptions {
  root: string;
  journal?: string | null;
  behaviour?: Behaviour;
}

/** What the server saw, in order: requests, and pause/resume transitions with their cause. */
export type Seen = { request: ControlRequest } | { paused: true } | { resumed: 'request' | 'deadline' | 'closed' };

export class ControlServer {
  readonly seen: Seen[] = [];
  seq = 100;
  private server: Server | undefined;
  private pausedBy: Socket | undefined;
  private deadline: NodeJS.Timeout | undefined;
  /** Sockets that connected: closed on stop. */
  private readonly sockets = new Set<Socket>();

  constructor(readonly path: string, private readonly o: ControlServerOptions) {}

  async listen(): Promise<void> {
    rmSync(this.path, { force: true });
    this.server = createServer((s) => this.connection(s));
    await new Promise<void>((resolve) => this.server!.listen(this.path, resolve));
  }

  get paused(): boolean {
    return this.pausedBy !== undefined;
  }

  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()) ?? resolve());
    rmSync(this.path, { force: true });
  }

  /** Resolves once `pred` holds for what was seen (polling), or rejects after ms. */
  async until(pred: (seen: Seen[]) => boolean, ms = 5000): Promise<void> {
    const t0 = performance.now();
    while (!pred(this.seen)) {
      if (performance.now() - t0 > ms) throw new Error(`control server: condition not met within ${ms} ms; saw ${JSON.stringify(this.seen)}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  private connection(s: Socket): void {
    this.sockets.add(s);
    let buf = '';
    s.setEncoding('utf8');
    s.on('data', (chunk: string) => {
      buf += chunk;
      for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const req = JSON.parse(line) as ControlRequest;
        this.seen.push({ request: req });
        const b = this.o.behaviour ?? 'normal';
        if (b === 'silent') continue;
        if (b === 'garbage') {
          s.write('this is not json\n');
          continue;
        }
        const reply: ControlReply = typeof b === 'object' && b.refuse === req.op ? { ok: false, op: req.op, code: b.code, error: b.error } : this.answer(req, s);
        s.write(`${JSON.stringify(reply)}\n`);
      }
    });
    s.on('close', () => {
      this.sockets.delete(s);
      if (this.pausedBy === s) this.resume('closed');
    });
    s.on('error', () => {});
  }

  private answer(req: ControlRequest, s: Socket): ControlReply {
    switch (req.op) {
      case 'status':
        return {
          ok: true, op: 'status', protocol: 1, root: this.o.root, source: 'test-source', seq: this.seq, paused: this.paused, queue: 0, lagMs: 0, bytes: 0,
          include: [], exclude: [], journal: this.o.journal ?? null,
        };
      case 'pause':
        if (this.pausedBy !== undefined && this.pausedBy !== s) return { ok: false, op: 'pause', code: 'busy', error: 'paused by another connection' };
        this.pausedBy = s;
        this.seen.push({ paused: true });
        this.deadline = setTimeout(() => this.resume('deadline'), req.timeoutMs);
        return { ok: true, op: 'pause', seq: this.seq, deadline: new Date(Date.now() + req.timeoutMs).toISOString() };
      case 'resume':
        if (this.pausedBy === s) this.resume('request');
        return { ok: true, op: 'resume', seq: this.seq };
      case 'bookmark':
        this.seq++;
        return { ok: true, op: 'bookmark', name: req.name, seq: this.seq };
      case 'reconfigure':
        return { ok: true, op: 'reconfigure', seq: this.seq, include: req.include ?? [], exclude: req.exclude ?? [] };
    }
  }

  private resume(why: 'request' | 'deadline' | 'closed'): void {
    if (this.pausedBy === undefined) return;
    clearTimeout(this.deadline);
    this.pausedBy = undefined;
    this.seen.push({ resumed: why });
  }
}
