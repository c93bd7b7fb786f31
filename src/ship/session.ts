// The session protocol's upstream half: what a sink (replay --ack, ship --sink) tells ship on its
// stdout: a signature, then a CBOR sequence of control records (hello, ack, error). See rill-ship(1).
import { Encoder, Decoder } from 'cbor-x';
import { RillError, type ErrorKind } from '../errors.js';
import { decodableCodecs } from '../stream/compress.js';

/** RFC 9277 signature of the upstream channel: tag 55800, tag 0x52494C4C ("RILL"), bytes "SES". */
export const SESSION_SIGNATURE = Buffer.from('d9d9f8da52494c4c43534553', 'hex');
/** Session protocol versions this rill speaks (lowest, highest). */
export const PROTOCOL: [number, number] = [1, 1];

/** The sink's first record: who it is and what it durably holds (null: nothing). */
export interface Hello {
  t: 'hello';
  proto: [number, number];
  role: 'replay' | 'sink';
  node: string;
  source: string | null;
  seq: number | null;
  codecs: string[];
}
/** Events of `source` through `seq` are durable at the sink. */
export interface Ack {
  t: 'ack';
  source: string;
  seq: number;
}
/** The sink stopped: why, and the exit status it stops with. */
export interface SinkError {
  t: 'error';
  kind: ErrorKind | 'internal';
  exit: number;
  message: string;
}
/** Sent by the sink every second or so: it is alive and the transport carries its records. */
export interface Alive {
  t: 'alive';
}
export type Control = Hello | Ack | SinkError | Alive;

const cbor = { useRecords: false, mapsAsObjects: true, variableMapSize: true, pack: false, structuredClone: false, bundleStrings: false, tagUint8Array: false };
const encoder = new Encoder(cbor);
const decoder = new Decoder(cbor);

/** One control record as bytes (the signature goes once, before the hello: see helloBytes). */
export function controlBytes(c: Control): Buffer {
  return Buffer.from(encoder.encode(c));
}

/** What a sink writes first: the signature and its hello. */
export function helloBytes(h: Omit<Hello, 't' | 'proto' | 'codecs'> & { codecs?: string[] }): Buffer {
  return Buffer.concat([SESSION_SIGNATURE, controlBytes({ t: 'hello', proto: PROTOCOL, codecs: decodableCodecs(), ...h })]);
}

/** Longest stretch of noise before the signature that is kept to show in a message. */
const NOISE_SHOWN = 400;
/** Noise beyond this is not a banner: the transport is not running a sink at all. */
const NOISE_LIMIT = 64 * 1024;

/**
 * Parses the sink's stdout as it arrives: noise before the signature (a login banner, shell rc
 * output) is reported once through onNoise and skipped; after it, every complete control record
 * is returned. Throws RillError('stream') for bytes that are not control records.
 */
export class ControlParser {
  private buf: Buffer = Buffer.alloc(0);
  private synced = false;
  private noise: Buffer = Buffer.alloc(0);
  private noiseBytes = 0;

  constructor(private readonly onNoise: (shown: string, bytes: number) => void = () => {}) {}

  push(chunk: Buffer): Control[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (!this.synced && !this.sync()) return [];
    const out: Control[] = [];
    let consumed = 0;
    try {
      decoder.decodeMultiple(this.buf, (v: unknown) => {
        out.push(checkControl(v));
      });
      consumed = this.buf.length;
    } catch (err) {
      const e = err as { incomplete?: boolean; lastPosition?: number };
      if (err instanceof RillError) throw err;
      if (e.incomplete !== true) throw new RillError('stream', `the sink sent bytes that are not a session record: ${(err as Error).message}`);
      consumed = e.lastPosition ?? 0;
    }
    this.buf = this.buf.subarray(consumed);
    return out;
  }

  /** Bytes seen before the signature (when the transport ends before one came). */
  get noiseSeen(): { shown: string; bytes: number } {
    return { shown: show(this.noise), bytes: this.noiseBytes + (this.synced ? 0 : this.buf.length) };
  }

  /** Finds the signature; reports and drops what came before it. */
  private sync(): boolean {
    const at = this.buf.indexOf(SESSION_SIGNATURE);
    if (at < 0) {
      // Keep a tail that may be the start of the signature; the rest is noise.
      const keep = Math.min(this.buf.length, SESSION_SIGNATURE.length - 1);
      this.addNoise(this.buf.subarray(0, this.buf.length - keep));
      this.buf = Buffer.from(this.buf.subarray(this.buf.length - keep));
      if (this.noiseBytes > NOISE_LIMIT) {
        throw new RillError('stream', `the transport printed ${this.noiseBytes} bytes and no rill session: ${show(this.noise)}`, {
          hint: 'is rill installed on the far side, and does the command run `rill replay --ack ROOT` or `rill ship --sink DIR`?',
        });
      }
      return false;
    }
    this.addNoise(this.buf.subarray(0, at));
    this.buf = this.buf.subarray(at + SESSION_SIGNATURE.length);
    this.synced = true;
    if (this.noiseBytes > 0) this.onNoise(show(this.noise), this.noiseBytes);
    return true;
  }

  private addNoise(b: Buffer): void {
    this.noiseBytes += b.length;
    if (this.noise.length < NOISE_SHOWN) this.noise = Buffer.concat([this.noise, b.subarray(0, NOISE_SHOWN - this.noise.length)]);
  }
}

/** Noise as one printable line: text as is (control bytes escaped), cut at NOISE_SHOWN. */
function show(b: Buffer): string {
  const text = b
    .toString('latin1')
    .replace(/[\\"]/g, (c) => `\\${c}`)
    .replace(/[^\x20-\x7e]/g, (c) => (c === '\n' ? '\\n' : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`));
  return `"${text}"`;
}

function checkControl(v: unknown): Control {
  const r = v as { t?: unknown; proto?: unknown; source?: unknown; seq?: unknown; codecs?: unknown; message?: unknown; exit?: unknown } | null;
  const bad = (why: string): never => {
    throw new RillError('stream', `the sink sent a malformed session record (${why}): ${JSON.stringify(v)}`);
  };
  if (r === null || typeof r !== 'object') return bad('not a map');
  if (r.t === 'hello') {
    if (!Array.isArray(r.proto) || r.proto.length !== 2 || !r.proto.every((n) => Number.isSafeInteger(n))) bad('proto is not [min, max]');
    if (r.source !== null && typeof r.source !== 'string') bad('source');
    if (r.seq !== null && !Number.isSafeInteger(r.seq)) bad('seq');
    if (!Array.isArray(r.codecs)) bad('codecs');
    return r as unknown as Hello;
  }
  if (r.t === 'ack') {
    if (typeof r.source !== 'string' || !Number.isSafeInteger(r.seq)) bad('source or seq');
    return r as unknown as Ack;
  }
  if (r.t === 'alive') return { t: 'alive' };
  if (r.t === 'error') {
    if (typeof r.message !== 'string' || !Number.isSafeInteger(r.exit)) bad('message or exit');
    return r as unknown as SinkError;
  }
  return bad(`unknown record type ${JSON.stringify(r.t)}`);
}

/** The versions both speak, or a RillError naming both ranges. */
export function agreeVersion(theirs: [number, number]): number {
  const lo = Math.max(theirs[0], PROTOCOL[0]);
  const hi = Math.min(theirs[1], PROTOCOL[1]);
  if (lo > hi) {
    throw new RillError('mismatch', `the sink speaks session protocol ${theirs[0]}..${theirs[1]}, this rill speaks ${PROTOCOL[0]}..${PROTOCOL[1]}`, {
      hint: 'install the same rill version on both ends',
    });
  }
  return hi;
}
