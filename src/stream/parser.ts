// The rill stream grammar over contiguous bytes: signature, frame heads, CRC, records, and the
// stream-level checks (header first, increasing seq, end record). Shared by the push decoder
// (decode.ts) and the pull reader (reader.ts). A frame's records are returned only after its CRC
// and every record in it checked out; every error names input, byte offset and record number.
// A compressed payload (codec zstd or gzip) is checked against the CRC as stored, i.e. compressed,
// before it is decompressed, so a decompressor only ever sees bytes that arrived intact.
import { RillError } from '../errors.js';
import { MAGIC, READ_VERSIONS, type StreamRecord } from './events.js';
import { cborDecoder } from './cbor.js';
import { CODEC_NAMES, MAX_FRAME_PAYLOAD, SIGNATURE, chainChecksum, frameCrc, readHead } from './frame.js';
import { decompressPayload, PayloadError } from './compress.js';
import { recordFromWire, WireError } from './wire.js';

export interface DecoderOptions {
  /** Input name for messages ('-' for stdin). */
  input?: string;
  /** An input of zero bytes is no stream rather than an error (ship restarted with nothing new). */
  allowEmpty?: boolean;
  /** Called for records that are skipped (unknown kinds marked optional). */
  onWarning?: (message: string) => void;
}

interface StreamState {
  headerSeen: boolean;
  count: number;
  checksum: number;
  lastSeq: number;
}

/** One step: bytes consumed and the records they held, or how many bytes are needed from here. */
export type ParseStep = { consumed: number; records: StreamRecord[] } | { need: number };

/** The longest frame head (array, codec, crc, payload heads); a view this long always parses a head. */
const MAX_HEAD = 1 + 9 + 9 + 9;

export class StreamParser {
  private readonly input: string | undefined;
  private readonly onWarning: (message: string) => void;
  private readonly allowEmpty: boolean;
  /** Absolute offset of the next unconsumed byte. */
  private offset = 0;
  /** Records decoded so far (1-based numbering in messages). */
  private records = 0;
  private stream: StreamState | undefined;
  private streams = 0;

  /** Where the open stream stands after the frames consumed so far (undefined between streams); why: the journal ends a stream its writer left open. */
  get openStream(): { count: number; checksum: number; lastSeq: number } | undefined {
    const s = this.stream;
    return s === undefined || !s.headerSeen ? undefined : { count: s.count, checksum: s.checksum, lastSeq: s.lastSeq };
  }

  constructor(options: DecoderOptions = {}) {
    this.input = options.input;
    this.onWarning = options.onWarning ?? (() => {});
    this.allowEmpty = options.allowEmpty === true;
  }

  /** Parses the signature or frame at the start of view (the unconsumed input, at least 1 byte). */
  step(view: Buffer): ParseStep {
    return this.stream === undefined ? this.signature(view) : this.frame(view);
  }

  /** At the end of the input, with `unconsumed` bytes left over: throws when the input is cut or empty. */
  finish(unconsumed: number): void {
    if (unconsumed > 0 && this.stream === undefined) {
      throw this.error('truncated: the input ends inside the stream signature', this.offset);
    }
    if (unconsumed > 0) {
      throw this.error(`truncated: the input ends inside a frame (${unconsumed} bytes of it present)`, this.offset, this.records + 1);
    }
    if (this.stream !== undefined) {
      throw this.error(`truncated: the stream ends after record ${this.records} without an end record`, this.offset, this.records);
    }
    if (this.streams === 0 && !(this.allowEmpty && this.offset === 0)) throw this.error('empty input: not a rill stream', 0);
  }

  private error(message: string, offset: number, record?: number): RillError {
    return new RillError('stream', message, { input: this.input, offset, record });
  }

  private signature(view: Buffer): ParseStep {
    const n = Math.min(view.length, SIGNATURE.length);
    const got = view.subarray(0, n);
    if (!got.equals(SIGNATURE.subarray(0, n))) {
      const hint = got[0] === 0x7b ? ' (this looks like JSON: rill undump turns JSON lines into a stream)' : '';
      const what = this.streams === 0 ? 'not a rill stream' : 'garbage after the end of a stream';
      throw this.error(`${what}: expected the rill signature, found bytes ${got.toString('hex')}${hint}`, this.offset);
    }
    if (n < SIGNATURE.length) return { need: SIGNATURE.length };
    this.offset += n;
    this.stream = { headerSeen: false, count: 0, checksum: 0, lastSeq: -1 };
    this.streams++;
    return { consumed: n, records: [] };
  }

  private frame(view: Buffer): ParseStep {
    const start = this.offset;
    const bad = (what: string): never => {
      throw this.error(`corrupt frame: ${what}`, start, this.records + 1);
    };
    let pos = 0;
    const head = (major: number, what: string): number | undefined => {
      let h;
      try {
        h = readHead(view, pos);
      } catch {
        return bad(`malformed CBOR in the frame head (${what})`);
      }
      if (h === undefined) return undefined;
      if (h.major !== major || h.value < 0) bad(`${what} expected`);
      pos += h!.length;
      return h!.value;
    };
    const more: ParseStep = { need: Math.max(view.length + 1, MAX_HEAD) };
    const arity = head(4, 'a 3-element array');
    if (arity === undefined) return more;
    if (arity !== 3) bad(`a frame is a 3-element array, found ${arity} elements`);
    const codec = head(0, 'codec (unsigned integer)');
    if (codec === undefined) return more;
    const crc = head(0, 'CRC (unsigned integer)');
    if (crc === undefined) return more;
    const length = head(2, 'payload (byte string of definite length)');
    if (length === undefined) return more;
    if (crc > 0xffffffff) bad(`CRC ${crc} is not a 32-bit value`);
    if (length > MAX_FRAME_PAYLOAD) bad(`payload length ${length} exceeds the ${MAX_FRAME_PAYLOAD}-byte limit`);
    if (view.length < pos + length) return { need: pos + length };
    const payload = view.subarray(pos, pos + length);
    const actual = frameCrc(payload);
    if (actual !== crc) {
      bad(`CRC mismatch (stored ${hex(crc)}, computed ${hex(actual)}): the frame's ${length} bytes were damaged`);
    }
    let plain: Buffer;
    try {
      plain = decompressPayload(codec, payload, MAX_FRAME_PAYLOAD);
    } catch (err) {
      if (err instanceof PayloadError) bad(`${err.message} (codec ${CODEC_NAMES[codec] ?? codec}, ${length} bytes stored, CRC correct)`);
      throw err;
    }
    const stream = this.stream!;
    const decoded = this.decodeRecords(plain!, start);
    this.offset += pos + length;
    stream.checksum = chainChecksum(stream.checksum, actual);
    return { consumed: pos + length, records: decoded };
  }

  /** Decodes and checks every record of a frame before any is released. */
  private decodeRecords(payload: Buffer, frameStart: number): StreamRecord[] {
    let items: unknown[];
    try {
      items = cborDecoder.decodeMultiple(payload) as unknown[];
    } catch (err) {
      throw this.error(`malformed CBOR inside a frame whose CRC is correct (a writer bug): ${(err as Error).message}`, frameStart, this.records + 1);
    }
    const out: StreamRecord[] = [];
    const st = this.stream!;
    // Stream checks run on a copy of the state, committed only when the whole frame is good.
    const next = { ...st };
    let ended = false;
    let n = this.records;
    for (const item of items) {
      n++;
      const fail = (message: string): never => {
        throw this.error(message, frameStart, n);
      };
      if (ended) fail('records after the end record in the same frame');
      let rec;
      try {
        rec = recordFromWire(item);
      } catch (err) {
        if (err instanceof WireError) fail(err.message);
        throw err;
      }
      if ('skipped' in rec) {
        this.onWarning(`${this.input ?? '-'}: record ${n}: skipped optional record of unknown type '${rec.type}'`);
        continue;
      }
      if (!next.headerSeen) {
        if (rec.type !== 'header') fail(`the stream starts with a ${rec.type} record, not a header`);
        if (rec.type === 'header') {
          if (rec.magic !== MAGIC) fail(`header magic is ${JSON.stringify(rec.magic)}, not "${MAGIC}"`);
          if (rec.version < READ_VERSIONS.min || rec.version > READ_VERSIONS.max) {
            fail(`stream format version ${rec.version} is not readable by this rill (reads ${READ_VERSIONS.min}..${READ_VERSIONS.max}); upgrade rill`);
          }
          if (rec.part !== undefined && rec.part > 0 && rec.full === true) fail(`a header with part ${rec.part} continues a stream, so it cannot be full`);
          next.headerSeen = true;
        }
      } else if (rec.type === 'header') {
        fail('a header record inside a stream (a stream ends with an end record before the next begins)');
      } else if (rec.type === 'end') {
        if (rec.count !== next.count) fail(`end record counts ${rec.count} events, the stream had ${next.count}: events were lost or added`);
        if (rec.checksum !== st.checksum) fail(`end record checksum ${hex(rec.checksum)} does not match the frames read (${hex(st.checksum)}): frames were lost, added or reordered`);
        const last = next.lastSeq >= 0 ? next.lastSeq : undefined;
        if (rec.lastSeq !== last) fail(`end record says the last seq is ${rec.lastSeq ?? 'none'}, the stream's last seq is ${last ?? 'none'}`);
        ended = true;
      } else {
        if (!(rec.seq > next.lastSeq)) fail(`${rec.type} event seq ${rec.seq} does not follow seq ${next.lastSeq}: seq must increase`);
        next.lastSeq = rec.seq;
        next.count++;
      }
      out.push(rec);
    }
    this.records = n;
    if (ended) this.stream = undefined;
    else Object.assign(st, next);
    return out;
  }
}

function hex(n: number): string {
  return `0x${(n >>> 0).toString(16).padStart(8, '0')}`;
}
