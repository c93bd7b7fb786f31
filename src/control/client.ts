// The client side of the control socket (protocol.ts): one connection, requests answered in order,
// each bounded by a timeout, every failure a RillError naming the socket and the request. A pause
// belongs to this connection: closing it (or dying) resumes the capture.
import { connect, type Socket } from 'node:net';
import { RillError, type ErrorKind } from '../errors.js';
import type { ControlReply, ControlRequest, ControlStatus } from './protocol.js';

/** A successful reply to a request of kind Op. */
export type OkReply<Op extends ControlRequest['op']> = Extract<ControlReply, { ok: true; op: Op }>;

/** Default bound on connecting and on each reply. */
export const CONTROL_TIMEOUT_MS = 5000;

const REPLY_KIND: Record<string, ErrorKind> = { usage: 'usage', denied: 'io', busy: 'busy', internal: 'io' };

interface Waiter {
  op: string;
  resolve: (r: ControlReply) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Why: freeze and bookmark talk to a running capture --mount through one small, bounded client. */
export class ControlClient {
  private readonly waiting: Waiter[] = [];
  private buffered = '';
  private closedWith: Error | undefined;

  private constructor(
    private readonly socket: Socket,
    readonly path: string,
  ) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(this.error('io', `the control connection failed: ${err.message}`, err)));
    socket.on('close', () => this.fail(this.error('io', 'the capture closed the control connection')));
  }

  /** Connects to the capture's socket at path. */
  static connect(path: string, timeoutMs = CONTROL_TIMEOUT_MS): Promise<ControlClient> {
    return new Promise((resolve, reject) => {
      const socket = connect({ path });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new RillError('io', `control socket ${JSON.stringify(path)}: no connection within ${timeoutMs} ms`, { path, hint: 'is the capture hung?' }));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.removeAllListeners('error');
        resolve(new ControlClient(socket, path));
      });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(connectError(path, err));
      });
    });
  }

  /** Sends one request and waits for its reply; an error reply, a timeout or a closed connection throws. */
  request<Op extends ControlRequest['op']>(req: Extract<ControlRequest, { op: Op }>, timeoutMs = CONTROL_TIMEOUT_MS): Promise<OkReply<Op>> {
    if (this.closedWith !== undefined) return Promise.reject(this.closedWith);
    return new Promise<ControlReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = this.waiting.findIndex((w) => w.timer === timer);
        if (i >= 0) this.waiting.splice(i, 1);
        // The replies that follow would be out of step: this connection is done.
        const err = this.error('io', `the capture did not answer '${req.op}' within ${timeoutMs} ms`, undefined, 'is the capture hung? a pause it granted ends when this connection closes');
        this.fail(err);
        reject(err);
      }, timeoutMs);
      this.waiting.push({ op: req.op, resolve, reject, timer });
      this.socket.write(`${JSON.stringify(req)}\n`);
    }).then((reply) => {
      if (reply.ok) return reply as OkReply<Op>;
      throw this.error(REPLY_KIND[reply.code] ?? 'io', `the capture refused '${req.op}': ${reply.error}${reply.code === 'busy' ? ' (busy)' : ''}`);
    });
  }

  /** The capture's status (root, source, last seq, journal, ...). */
  async status(timeoutMs?: number): Promise<ControlStatus> {
    const { ok: _ok, op: _op, ...status } = await this.request({ op: 'status' }, timeoutMs);
    return status;
  }

  /** Closes the connection (a pause it holds ends with it). */
  close(): void {
    this.closedWith ??= this.error('io', 'the control connection was closed');
    this.socket.end();
    this.socket.destroy();
  }

  private onData(chunk: string): void {
    this.buffered += chunk;
    for (let nl = this.buffered.indexOf('\n'); nl >= 0; nl = this.buffered.indexOf('\n')) {
      const line = this.buffered.slice(0, nl);
      this.buffered = this.buffered.slice(nl + 1);
      const w = this.waiting.shift();
      if (w === undefined) continue; // a reply after its request timed out: the connection is closing
      clearTimeout(w.timer);
      let reply: ControlReply;
      try {
        reply = JSON.parse(line) as ControlReply;
        if (typeof reply !== 'object' || reply === null || typeof reply.ok !== 'boolean') throw new Error('not a reply object');
      } catch {
        const err = this.error('io', `the capture sent a reply to '${w.op}' that is not protocol JSON: ${JSON.stringify(line.slice(0, 80))}`);
        w.reject(err);
        this.fail(err);
        return;
      }
      w.resolve(reply);
    }
  }

  private fail(err: Error): void {
    this.closedWith ??= err;
    for (const w of this.waiting.splice(0)) {
      clearTimeout(w.timer);
      w.reject(err);
    }
    this.socket.destroy();
  }

  private error(kind: ErrorKind, message: string, cause?: unknown, hint?: string): RillError {
    return new RillError(kind, `control socket ${JSON.stringify(this.path)}: ${message}`, { path: this.path, cause, hint });
  }
}

function connectError(path: string, err: NodeJS.ErrnoException): RillError {
  const hint = `start 'rill capture --mount ROOT --control ${path}', or name the socket of the running capture`;
  switch (err.code) {
    case 'ENOENT':
      return new RillError('io', `control socket ${JSON.stringify(path)} does not exist`, { path, cause: err, hint });
    case 'ECONNREFUSED':
      return new RillError('io', `nothing listens on control socket ${JSON.stringify(path)} (the capture ended and left it behind?)`, { path, cause: err, hint });
    case 'EACCES':
      return new RillError('io', `control socket ${JSON.stringify(path)}: permission denied (it is for the capture's user and root)`, { path, cause: err });
    case 'ENOTSOCK':
      return new RillError('usage', `${JSON.stringify(path)} is not a socket`, { path, cause: err, hint });
    default:
      return new RillError('io', `cannot connect to control socket ${JSON.stringify(path)}: ${err.message}`, { path, cause: err });
  }
}
