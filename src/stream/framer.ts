// The core of every stream writer, shared by StreamEncoder (a Node Transform) and the journal's
// segment files (synchronous write(2)): the stream state (count, checksum, lastSeq and its checks),
// records into frames without copying large write payloads, and finished frames out through one
// callback. The signature of a stream goes out with its first frame.
import { RillError } from '../errors.js';
import { FORMAT_VERSION, MAGIC, type End, type Event, type Header, type StreamRecord, type WriteEvent } from './events.js';
import { cborEncoder } from './cbor.js';
import type { PayloadCompressor } from './compress.js';
import { SIGNATURE, chainChecksum } from './frame.js';
import { FrameBuilder } from './frame-builder.js';
import { recordToWire } from './wire.js';

const EMPTY = Buffer.alloc(0);
/** Write payloads at least this long are referenced (or, transient, copied once) instead of CBOR-encoded. */
const REFERENCE_MIN = 1024;
/** Transient payloads at least this long are not copied: their frame is written out before the call returns. */
const DIRECT_MIN = 64 * 1024;

/** Writes a CBOR byte-string head for length n at buf[pos]; returns the position after it. */
function writeBstrHead(buf: Buffer, pos: number, n: number): number {
  if (buf[pos] !== 0x40) throw new Error('internal: write payload placeholder not found at the end of the record');
  if (n < 24) buf[pos++] = 0x40 | n;
  else if (n < 0x100) (buf[pos++] = 0x58), (buf[pos++] = n);
  else if (n < 0x10000) (buf[pos++] = 0x59), (pos = buf.writeUInt16BE(n, pos));
  else (buf[pos++] = 0x5a), (pos = buf.writeUInt32BE(n, pos));
  return pos;
}

/** The CBOR of a write record's fixed text: the map's first pair ("type": "write") and its other keys. */
const TYPE_WRITE = Buffer.from('6474797065657772697465', 'hex');
const KEY_SEQ = Buffer.from('63736571', 'hex');
const KEY_TIME = Buffer.from('6474696d65', 'hex');
const KEY_PATH = Buffer.from('6470617468', 'hex');
const KEY_OFFSET = Buffer.from('666f6666736574', 'hex');
const KEY_DATA = Buffer.from('6464617461', 'hex');
const MAX_SAFE_NS = BigInt(Number.MAX_SAFE_INTEGER);
const MAX_U64 = 2n ** 64n - 1n;

/** Writes a CBOR unsigned integer below 2^32 in its shortest head at buf[pos]; returns the position after it. */
function writeUint32(buf: Buffer, pos: number, v: number, major = 0): number {
  if (v < 24) buf[pos++] = major | v;
  else if (v < 0x100) (buf[pos++] = major | 24), (buf[pos++] = v);
  else if (v < 0x10000) (buf[pos++] = major | 25), (buf[pos++] = v >> 8), (buf[pos++] = v & 0xff);
  else (buf[pos++] = major | 26), (pos = buf.writeUInt32BE(v, pos));
  return pos;
}

/** Why: the encoder and the journal differ only in these (frame size, codec, who owns write buffers). */
export interface FramerOptions {
  /** A frame is closed once its payload reaches this many bytes (default 256 KiB). */
  frameBytes?: number;
  /** Stores payloads compressed where that makes them shorter (ship's negotiated codec). */
  compressor?: PayloadCompressor;
  /**
   * The caller reuses its write buffers once a call returns (the journal): a payload is copied into
   * the frame, or, when large, written out with its frame before the call returns. Otherwise payloads
   * are referenced until their frame is emitted, and the caller must not change them.
   */
  transient?: boolean;
}

/** Where a stream stands after the frames written so far (to end a stream another writer left open). */
export interface FramerState {
  count: number;
  checksum: number;
  /** -1 when the stream has no events yet. */
  lastSeq: number;
}

/** Why: one implementation of "records → frames" for the encoder and the journal writer. */
export class StreamFramer {
  private readonly frameBytes: number;
  private readonly compressor: PayloadCompressor | undefined;
  private readonly transient: boolean;
  private readonly frame = new FrameBuilder();
  private open = false;
  private state: FramerState = { count: 0, checksum: 0, lastSeq: -1 };
  /** Bytes to emit in front of the next frame (a stream's signature). */
  private prefix: Buffer | undefined;

  constructor(
    private readonly emit: (pieces: Buffer[]) => void,
    options: FramerOptions = {},
  ) {
    this.frameBytes = options.frameBytes ?? 256 * 1024;
    this.compressor = options.compressor;
    this.transient = options.transient ?? false;
  }

  /** Inside a stream: a header was written and its end record not yet. */
  get inStream(): boolean {
    return this.open;
  }

  /** Payload bytes waiting in the frame being built. */
  get pending(): number {
    return this.frame.length;
  }

  /** Events in the stream so far. */
  get count(): number {
    return this.state.count;
  }

  /** seq of the stream's last event, -1 before any. */
  get lastSeq(): number {
    return this.state.lastSeq;
  }

  /** Starts a stream: its signature and header (magic and version as this code writes them). */
  header(h: Header): void {
    if (this.open) throw new RillError('stream', 'a header record inside a stream (end the previous stream first)');
    this.flush();
    this.prefix = SIGNATURE;
    this.open = true;
    this.state = { count: 0, checksum: 0, lastSeq: -1 };
    this.append({ ...h, magic: MAGIC, version: FORMAT_VERSION });
  }

  /** Continues a stream whose signature, header and frames are already out (state as a parser left it). */
  resume(state: FramerState): void {
    if (this.open) throw new Error('internal: resume inside a stream');
    this.open = true;
    this.state = { ...state };
  }

  event(e: Event): void {
    if (!this.open) throw new RillError('stream', `event seq ${e.seq} (${e.type}) before any header record`);
    if (!(e.seq > this.state.lastSeq)) {
      throw new RillError('stream', `event seq ${e.seq} (${e.type}) does not follow seq ${this.state.lastSeq}: seq must increase`);
    }
    this.state.lastSeq = e.seq;
    this.state.count++;
    this.append(e);
  }

  /** Ends the stream (more: it goes on in a following part, or was cut) and emits its last frame; returns the end record. */
  end(more = false): End {
    if (!this.open) throw new RillError('stream', 'an end record outside a stream');
    const end: End = { type: 'end', count: this.state.count, checksum: this.state.checksum };
    if (this.state.lastSeq >= 0) end.lastSeq = this.state.lastSeq;
    if (more) end.more = true;
    this.append(end);
    this.flush();
    this.open = false;
    return end;
  }

  /** Emits the frame being built, if it holds anything. */
  flush(): void {
    const frame = this.frame.take(this.compressor);
    if (frame === undefined) return;
    const pieces = this.prefix === undefined ? frame.pieces : [this.prefix, ...frame.pieces];
    this.prefix = undefined;
    this.state.checksum = chainChecksum(this.state.checksum, frame.crc);
    this.emit(pieces);
  }

  private append(rec: StreamRecord): void {
    if (rec.type === 'write' && this.appendWrite(rec)) return;
    const wire = recordToWire(rec);
    // A write's payload is not CBOR-encoded: its field is last on the wire, so the map is encoded
    // with an empty placeholder (0x40) whose byte is replaced by the real head, and the payload is
    // referenced (or, transient and not large, copied once into the frame after the head).
    const data = rec.type === 'write' && rec.data.length >= REFERENCE_MIN ? rec.data : undefined;
    if (data !== undefined) wire.data = EMPTY;
    const bytes = cborEncoder.encode(wire);
    const copy = data !== undefined && this.transient && data.length < DIRECT_MIN ? data.length : 0;
    const reserved = bytes.length + 8 + copy;
    const [buf, at] = this.frame.reserve(reserved);
    buf.set(bytes, at); // a builtin: cheaper than Buffer#copy for the short records this mostly is
    if (data === undefined) {
      this.frame.unreserve(8);
    } else {
      let end = writeBstrHead(buf, at + bytes.length - 1, data.length);
      if (copy > 0) end += data.copy(buf, end);
      this.frame.unreserve(at + reserved - end);
      if (copy === 0) this.frame.reference(data);
    }
    // A transient payload referenced above must be out before the caller gets its buffer back.
    if (this.frame.length >= this.frameBytes || (data !== undefined && copy === 0 && this.transient)) this.flush();
  }

  /**
   * The common record, a write, encoded by hand: the very bytes recordToWire + cbor-x make (the same
   * keys in the same order, shortest heads), without the wire map or the encoder's pass over it.
   * false (nothing written) for what cbor-x would encode differently or this does not cover: a seq
   * or offset of 2^32 or more (cbor-x writes those as floats), a time within 2^53 (a number on the
   * wire), a path that is not UTF-8 (a byte string).
   */
  private appendWrite(e: WriteEvent): boolean {
    const { seq, time, path, offset, data } = e;
    if (seq >>> 0 !== seq || offset >>> 0 !== offset) return false;
    if (time !== undefined && !(time > MAX_SAFE_NS && time <= MAX_U64)) return false;
    const n = data.length;
    // small payloads are copied after their head, as cbor-x would; large ones referenced (or, transient, copied once)
    const ref = n >= REFERENCE_MIN && !(this.transient && n < DIRECT_MIN);
    const copy = ref ? 0 : n;
    const plen = path.length;
    const reserved = 72 + 3 * plen + copy;
    const [buf, at] = this.frame.reserve(reserved);
    let pos = at;
    buf[pos++] = time === undefined ? 0xa5 : 0xa6;
    buf.set(TYPE_WRITE, pos);
    pos += TYPE_WRITE.length;
    buf.set(KEY_SEQ, pos);
    pos += KEY_SEQ.length;
    pos = writeUint32(buf, pos, seq);
    if (time !== undefined) {
      buf.set(KEY_TIME, pos);
      pos += KEY_TIME.length;
      buf[pos++] = 0x1b;
      this.frame.view.setBigUint64(pos, time); // big-endian; Buffer#writeBigUInt64BE makes three bigints
      pos += 8;
    }
    buf.set(KEY_PATH, pos);
    pos += KEY_PATH.length;
    // the text: ASCII by a loop (paths are short), else as UTF-8 when well-formed
    let ascii = plen < 24;
    if (ascii) {
      for (let i = 0; i < plen; i++) {
        const c = path.charCodeAt(i);
        if (c >= 0x80) {
          ascii = false;
          break;
        }
        buf[pos + 1 + i] = c;
      }
    }
    if (ascii) {
      buf[pos] = 0x60 | plen;
      pos += 1 + plen;
    } else {
      if (!path.isWellFormed()) {
        this.frame.unreserve(reserved);
        return false;
      }
      const bytes = Buffer.byteLength(path, 'utf8');
      pos = writeUint32(buf, pos, bytes, 0x60);
      pos += buf.write(path, pos, bytes, 'utf8');
    }
    buf.set(KEY_OFFSET, pos);
    pos += KEY_OFFSET.length;
    pos = writeUint32(buf, pos, offset);
    buf.set(KEY_DATA, pos);
    pos += KEY_DATA.length;
    pos = writeUint32(buf, pos, n, 0x40);
    if (copy > 0) {
      buf.set(data, pos);
      pos += copy;
    }
    this.frame.unreserve(at + reserved - pos);
    if (ref) this.frame.reference(data);
    if (this.frame.length >= this.frameBytes || (ref && this.transient)) this.flush();
    return true;
  }
}
