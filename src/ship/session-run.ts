// One session over a started transport: wait for the sink's hello, stream the journal from the
// sink's position, follow its acks, and tell how it ended (delivered, the transport died or stalled,
// the sink stopped on an error). The loop around sessions is destination.ts.
import { once } from 'node:events';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { RillError } from '../errors.js';
import { readJournal, type Position, type Waker } from '../journal/index.js';
import { StreamEncoder } from '../stream/encode.js';
import type { StreamRecord } from '../stream/events.js';
import { agreeVersion, ControlParser, type Control, type Hello, type SinkError } from './session.js';
import type { Transport } from './transport.js';

/** What a session needs; the destination fills in the callbacks. */
export interface SessionSetup {
  transport: Transport;
  /** The journal (or spool) being shipped. */
  journal: string;
  /** Its writer is in this process (the spool of stdin) and wakes the reader when it writes. */
  waker?: Waker;
  /** Payload codec wanted; 'none' when the sink does not offer it. */
  codec: 'zstd' | 'gzip' | 'none';
  /** Paces what is written to the transport (--bwlimit); undefined: as fast as it takes it. */
  pace?: (source: Readable) => Readable;
  /** No record at all from the sink for this long: the transport is taken for dead. */
  ackTimeoutMs: number;
  /**
   * Where the input ends: undefined while more may come (the journal is followed), null when it
   * ended without events, else the last event: the session is done when the sink acked it.
   */
  inputEnd(): Position | null | undefined;
  /** Stops the session (ship is stopping): the transport is killed. */
  signal?: AbortSignal;
  /** The sink's hello: it holds events through seq (null: nothing of this journal). */
  onHello(seq: number | null): void;
  onAck(at: Position): void;
  onSent(bytes: number, events: number, lastSeq?: number): void;
  onLog(line: string): void;
}

/** How a session ended. */
export interface SessionEnd {
  /** Everything of the input was delivered and acknowledged. */
  done: boolean;
  /** Why not, for the log. */
  why: string;
  /** The sink stopped with this error record. */
  sinkError?: SinkError;
  /** An error no new session can get past (another protocol version, garbage after the signature). */
  fatal?: RillError;
}

/** True when `at` covers `end` (same source, at or past its seq). */
export function covers(at: Position | undefined, end: Position): boolean {
  return at !== undefined && at.source === end.source && at.seq >= end.seq;
}

/** Runs one session to its end; never throws for a transport failure (that is a SessionEnd). */
export async function runSession(s: SessionSetup): Promise<SessionEnd> {
  const t = s.transport;
  let hello: Hello | undefined;
  let sinkError: SinkError | undefined;
  let fatal: RillError | undefined;
  let acked: Position | undefined;
  let heard = Date.now();
  let killedWhy: string | undefined;
  const kill = (why: string): void => {
    killedWhy ??= why;
    t.kill();
  };
  let helloSeen!: () => void;
  const helloP = new Promise<void>((r) => (helloSeen = r));
  const parser = new ControlParser((shown, bytes) =>
    s.onLog(`warning: the transport printed ${bytes} bytes before the rill session (a login banner or shell start-up output?): ${shown}`),
  );
  const handle = (c: Control): void => {
    heard = Date.now();
    if (c.t === 'hello') {
      if (hello !== undefined) throw new RillError('stream', 'the sink sent a second hello');
      hello = c;
      helloSeen();
    } else if (hello === undefined) {
      throw new RillError('stream', `the sink sent a ${c.t} record before its hello`);
    } else if (c.t === 'ack') {
      acked = { source: c.source, seq: c.seq };
      s.onAck(acked);
    } else if (c.t === 'error') {
      sinkError = c;
    } // 'alive': the sink is there (heard is updated)
  };
  t.stdout.on('data', (chunk: Buffer) => {
    try {
      for (const c of parser.push(chunk)) handle(c);
    } catch (err) {
      fatal ??= err as RillError;
      kill('protocol error');
    }
  });
  const onAbort = (): void => kill('ship is stopping');
  s.signal?.addEventListener('abort', onAbort);
  const watchdog = setInterval(() => {
    if (Date.now() - heard > s.ackTimeoutMs) kill(`nothing from the sink for ${Math.round((Date.now() - heard) / 1000)} s (--ack-timeout)`);
  }, Math.min(1000, s.ackTimeoutMs / 4));
  const reading = new AbortController();
  try {
    const first = await Promise.race([helloP.then(() => 'hello' as const), t.exited.then(() => 'exit' as const)]);
    if (first === 'exit' || hello === undefined) {
      const r = await t.exited;
      const noise = parser.noiseSeen;
      const said = noise.bytes > 0 ? `; it printed ${noise.bytes} bytes and no rill session: ${noise.shown}` : '';
      return { done: false, why: killedWhy ?? `the transport exited (${exitText(r)}) before the sink's hello${said}`, fatal, sinkError };
    }
    agreeVersion(hello.proto);
    let codec = s.codec;
    if (codec !== 'none' && !hello.codecs.includes(codec)) {
      s.onLog(`warning: the sink does not decode ${codec} frames (it offers ${hello.codecs.join(', ')}); sending them uncompressed`);
      codec = 'none';
    }
    const start = hello.source !== null && hello.seq !== null ? { source: hello.source, seq: hello.seq } : undefined;
    s.onHello(start?.seq ?? null);
    if (start !== undefined) {
      acked = start;
      s.onAck(start);
    }
    // The transport gone (killed by a stopping ship, or dead): the reader stops following at once.
    let gone = false;
    void t.exited.then(() => {
      gone = true;
      reading.abort();
    });
    await pump(s, codec, start, reading.signal, () => gone || killedWhy !== undefined || fatal !== undefined);
    const r = await t.exited;
    if (fatal !== undefined) return { done: false, why: fatal.message, fatal };
    if (sinkError !== undefined) return { done: false, why: `the sink stopped: ${sinkError.message}`, sinkError };
    const end = s.inputEnd();
    if (r.code === 0 && killedWhy === undefined && end !== undefined && (end === null || covers(acked, end))) return { done: true, why: 'delivered' };
    return { done: false, why: killedWhy ?? `the transport exited (${exitText(r)})` };
  } catch (err) {
    kill('error');
    await t.exited;
    if (err instanceof RillError && err.kind !== 'io') return { done: false, why: err.message, fatal: err };
    return { done: false, why: (err as Error).message };
  } finally {
    clearInterval(watchdog);
    reading.abort();
    s.signal?.removeEventListener('abort', onAbort);
  }
}

/** Streams the journal from `start` into the transport until the input ends (or the session dies). */
async function pump(s: SessionSetup, codec: SessionSetup['codec'], start: Position | undefined, signal: AbortSignal, dead: () => boolean): Promise<void> {
  const t = s.transport;
  const enc = new StreamEncoder(undefined, { codec });
  // The encoder's errors are taken here: ending it inside a stream (a session cut short) is one.
  let encError: unknown;
  enc.on('error', (err) => (encError ??= err));
  enc.on('data', (b: Buffer) => s.onSent(b.length, 0));
  (s.pace === undefined ? enc : s.pace(enc)).pipe(t.stdin);
  const exited = t.exited.then(() => 'exit' as const);
  const reader = readJournal(s.journal, { after: start, follow: () => s.inputEnd() === undefined && !dead(), fullPrefix: true, signal, waker: s.waker });
  try {
    for await (const batch of reader) {
      if (dead()) break;
      let events = 0;
      let lastSeq: number | undefined;
      const copy = batch.map((r) => {
        if (r.type !== 'header' && r.type !== 'end') {
          events++;
          lastSeq = r.seq;
        }
        return copyRecord(r);
      });
      s.onSent(0, events, lastSeq);
      if (!enc.write(copy) && (await Promise.race([once(enc, 'drain').then(() => 'drain' as const), exited])) === 'exit') break;
    }
  } catch (err) {
    if (!signal.aborted && !dead()) throw err;
  } finally {
    // A session cut short leaves its stream unfinished on purpose (the sink resumes it next time):
    // no end record is made up for it.
    if (signal.aborted || dead()) {
      enc.destroy();
      t.stdin.destroy(); // else the transport's exit waits for its stdin to end
    } else enc.end();
  }
  if (!signal.aborted && !dead()) {
    await finished(enc).catch(() => undefined);
    if (encError !== undefined) throw encError;
  }
}

/** The reader's buffers are reused for its next batch; the encoder keeps references until written. */
function copyRecord(r: StreamRecord): StreamRecord {
  if (r.type === 'write') return { ...r, data: Buffer.from(r.data) };
  if (r.type === 'setxattr') return { ...r, value: Buffer.from(r.value) };
  if (r.type === 'assert') return { ...r, hash: Buffer.from(r.hash) };
  return r;
}

function exitText(r: { code: number | undefined; signal: string | undefined }): string {
  return r.signal !== undefined ? `killed by ${r.signal}` : r.code === undefined ? 'could not be started' : `exit status ${r.code}`;
}
