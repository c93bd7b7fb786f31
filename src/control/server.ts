// The control socket server of `rill capture --mount --control SOCK` (protocol.ts): JSON lines,
// one reply per request in order, a socket file of mode 0600, and a peer check (SO_PEERCRED:
// root or the capture's own uid). A pause belongs to its connection: closing it resumes.
import { chmodSync, lstatSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { RillError } from '../errors.js';
import { compilePattern, type FilterRule } from '../capture/filter.js';
import type { Controller } from '../capture/mount/control.js';
import { peerCredentials } from './peercred.js';
import { CONTROL_PROTOCOL, MAX_PAUSE_MS, type ControlReply, type ControlRequest, type ControlStatus } from './protocol.js';

type Status = () => Omit<ControlStatus, 'protocol' | 'paused'>;

/** Longest request line accepted (a reconfigure with many patterns fits easily). */
const MAX_LINE = 1024 * 1024;

const CODE: Partial<Record<RillError['kind'], 'usage' | 'busy'>> = { usage: 'usage', busy: 'busy' };

/** Why: the one door into a running capture; refuses what the protocol does not allow before acting. */
export async function startControlServer(path: string, controller: Controller, status: Status, log: (line: string) => void): Promise<{ close(): Promise<void> }> {
  removeStaleSocket(path);
  let nextId = 1;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    const id = nextId++;
    sockets.add(socket);
    serve(socket, id, controller, status, log);
    socket.on('close', () => {
      sockets.delete(socket);
      void controller.release(id);
    });
  });
  const oldMask = process.umask(0o177);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new RillError('io', `cannot listen on the control socket ${path}`, { path, cause: err })));
      server.listen(path, () => resolve());
    });
  } finally {
    process.umask(oldMask);
  }
  chmodSync(path, 0o600);
  log(`control socket ${path} (mode 0600)`);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {
          // gone already
        }
      }),
  };
}

/** A socket file left by a capture that died is replaced; any other file there is refused. */
function removeStaleSocket(path: string): void {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (st === undefined) return;
  if (!st.isSocket()) throw new RillError('usage', `--control ${path} exists and is not a socket`, { hint: 'name a new path, e.g. /run/rill/NAME.sock' });
  unlinkSync(path);
}

function serve(socket: Socket, id: number, controller: Controller, status: Status, log: (line: string) => void): void {
  const send = (reply: ControlReply): void => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
  };
  const cred = peerCredentials(socket);
  const me = process.getuid?.() ?? 0;
  if (cred === undefined || (cred.uid !== 0 && cred.uid !== me)) {
    const who = cred === undefined ? 'unknown peer' : `uid ${cred.uid} (pid ${cred.pid})`;
    log(`control: refused a connection from ${who}: only root and uid ${me} may control this capture`);
    send({ ok: false, code: 'denied', error: `${who} may not control this capture (only root and uid ${me})` });
    socket.end();
    return;
  }
  let buffered = '';
  let chain: Promise<void> = Promise.resolve();
  socket.setEncoding('utf8');
  socket.on('error', () => {});
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    if (buffered.length > MAX_LINE && !buffered.includes('\n')) {
      send({ ok: false, code: 'usage', error: `request longer than ${MAX_LINE} bytes` });
      socket.end();
      return;
    }
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      chain = chain.then(async () => send(await answer(line, id, controller, status)));
    }
  });
}

async function answer(line: string, id: number, controller: Controller, status: Status): Promise<ControlReply> {
  let req: ControlRequest;
  try {
    req = parseRequest(line);
  } catch (err) {
    return { ok: false, code: 'usage', error: (err as Error).message };
  }
  try {
    switch (req.op) {
      case 'status':
        return { ok: true, op: 'status', protocol: CONTROL_PROTOCOL, paused: controller.paused, ...status() };
      case 'pause': {
        const r = await controller.pause(id, req.timeoutMs);
        return { ok: true, op: 'pause', ...r };
      }
      case 'resume':
        return { ok: true, op: 'resume', ...(await controller.resume(id)) };
      case 'bookmark': {
        const r = await controller.bookmark(id, req.name, req.consistent ?? true);
        return { ok: true, op: 'bookmark', name: req.name, seq: r.seq };
      }
      case 'reconfigure': {
        const rules: FilterRule[] = [...(req.include ?? []).map((pattern) => ({ action: 'include' as const, pattern })), ...(req.exclude ?? []).map((pattern) => ({ action: 'exclude' as const, pattern }))];
        const r = await controller.reconfigure(id, rules);
        const s = status();
        return { ok: true, op: 'reconfigure', seq: r.seq, include: s.include, exclude: s.exclude };
      }
    }
  } catch (err) {
    const code = err instanceof RillError ? CODE[err.kind] ?? 'internal' : 'internal';
    return { ok: false, op: req.op, code, error: err instanceof RillError ? err.describe() : String((err as Error)?.message ?? err) };
  }
}

const isStrings = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string');

/** A request line checked against the protocol; throws with what is wrong. */
export function parseRequest(line: string): ControlRequest {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    throw new Error(`not a JSON object: ${JSON.stringify(line.slice(0, 80))}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('a request is a JSON object with an "op"');
  const o = v as Record<string, unknown>;
  switch (o.op) {
    case 'status':
    case 'resume':
      return { op: o.op };
    case 'pause': {
      const t = o.timeoutMs;
      if (typeof t !== 'number' || !Number.isInteger(t) || t <= 0 || t > MAX_PAUSE_MS) throw new Error(`pause needs timeoutMs, an integer from 1 to ${MAX_PAUSE_MS}`);
      return { op: 'pause', timeoutMs: t };
    }
    case 'bookmark': {
      if (typeof o.name !== 'string' || o.name === '' || o.name.length > 4096) throw new Error('bookmark needs a name: a non-empty string');
      if (o.consistent !== undefined && typeof o.consistent !== 'boolean') throw new Error('bookmark: consistent must be true or false');
      return o.consistent === undefined ? { op: 'bookmark', name: o.name } : { op: 'bookmark', name: o.name, consistent: o.consistent };
    }
    case 'reconfigure': {
      if (o.include !== undefined && !isStrings(o.include)) throw new Error('reconfigure: include must be a list of patterns');
      if (o.exclude !== undefined && !isStrings(o.exclude)) throw new Error('reconfigure: exclude must be a list of patterns');
      for (const p of [...(o.include ?? []), ...(o.exclude ?? [])] as string[]) {
        try {
          compilePattern(p);
        } catch (err) {
          throw new Error(`reconfigure: pattern ${JSON.stringify(p)} is invalid: ${(err as Error).message}`);
        }
      }
      return { op: 'reconfigure', include: o.include as string[] | undefined, exclude: o.exclude as string[] | undefined };
    }
    default:
      throw new Error(`unknown op ${JSON.stringify(o.op)}: one of bookmark, pause, resume, status, reconfigure`);
  }
}
