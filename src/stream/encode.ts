// Records -> rill stream bytes: signature, header, events batched into CRC'd frames, end record.
import { Transform, type TransformCallback } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RillError } from '../errors.js';
import { FORMAT_VERSION, MAGIC, type End, type Event, type Header, type RootKind, type StreamRecord } from './events.js';
import { cborEncoder } from './cbor.js';
import { SIGNATURE, chainChecksum } from './frame.js';
import { FrameBuilder } from './frame-builder.js';
import { recordToWire } from './wire.js';

const EMPTY = Buffer.alloc(0);
/** Write payloads at least this long are referenced, not copied, into frames. */
const REFERENCE_MIN = 1024;

function bstrHeadLength(n: number): number {
  return n < 24 ? 1 : n < 0x100 ? 2 : n < 0x10000 ? 3 : n < 0x100000000 ? 5 : 9;
}

/** Writes a CBOR byte-string head for length n at buf[pos]; returns the position after it. */
function writeBstrHead(buf: Buffer, pos: number, n: number): number {
  if (buf[pos] !== 0x40) throw new Error('internal: write payload placeholder not found at the end of the record');
  if (n < 24) buf[pos++] = 0x40 | n;
  else if (n < 0x100) (buf[pos++] = 0x58), (buf[pos++] = n);
  else if (n < 0x10000) (buf[pos++] = 0x59), (pos = buf.writeUInt16BE(n, pos));
  else (buf[pos++] = 0x5a), (pos = buf.writeUInt32BE(n, pos));
  return pos;
}

export interface EncoderOptions {
  /** A frame is closed once its payload reaches this many bytes (default 256 KiB). */
  frameBytes?: number;
}

export type HeaderInit = Omit<Header, 'type' | 'magic' | 'version'>;

/** A header for a new stream: a fresh source id and this host's name unless given. */
export function newHeader(init: {
  kind: RootKind;
  root: Header['root'];
  node?: string;
  source?: string;
  full?: boolean;
  base?: number;
}): HeaderInit {
  const h: HeaderInit = {
    source: init.source ?? randomUUID(),
    node: init.node ?? hostname(),
    kind: init.kind,
    root: init.root,
    created: BigInt(Date.now()) * 1_000_000n,
  };
  if (init.full !== undefined) h.full = init.full;
  if (init.base !== undefined) h.base = init.base;
  return h;
}

/**
 * Object-mode writable (records), byte readable. Constructed with a header, it writes the header
 * first and an end record when ended, and takes only events. Constructed without one, it takes
 * header, event and end records as they come (undump); it computes each end record's count,
 * checksum and lastSeq itself. Write payloads are referenced, not copied: do not change a buffer
 * after writing it. A frame is emitted when full, at an end record, and whenever the
 * event loop turns with records pending, so a live stream is never held back.
 */
export class StreamEncoder extends Transform {
  private readonly frameBytes: number;
  private readonly autoHeader: HeaderInit | undefined;
  private readonly frame = new FrameBuilder();
  private inStream = false;
  private count = 0;
  private checksum = 0;
  private lastSeq = -1;
  private timer: NodeJS.Immediate | undefined;

  constructor(header?: HeaderInit, options: EncoderOptions = {}) {
    super({ writableObjectMode: true, readableObjectMode: false });
    this.frameBytes = options.frameBytes ?? 256 * 1024;
    this.autoHeader = header;
  }

  /** Takes one record, or an array of records (cheaper: one trip through the stream machinery). */
  override _transform(chunk: StreamRecord | StreamRecord[], _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      if (Array.isArray(chunk)) for (const rec of chunk) this.record(rec);
      else this.record(chunk);
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private record(rec: StreamRecord): void {
    if (this.autoHeader !== undefined && !this.inStream) this.startStream({ type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...this.autoHeader });
    if (rec.type === 'header') this.startStream(rec);
    else if (rec.type === 'end') this.endStream();
    else this.event(rec);
  }

  override _flush(cb: TransformCallback): void {
    try {
      if (this.autoHeader !== undefined) {
        if (!this.inStream) this.startStream({ type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...this.autoHeader });
        this.endStream();
      } else if (this.inStream) {
        throw new RillError('stream', 'input ended inside a stream: no end record after the last event');
      }
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  override _destroy(err: Error | null, cb: (error: Error | null) => void): void {
    if (this.timer !== undefined) clearImmediate(this.timer);
    cb(err);
  }

  private startStream(h: Header): void {
    if (this.inStream) throw new RillError('stream', 'a header record inside a stream (end the previous stream first)');
    this.emitFrame();
    this.push(SIGNATURE);
    this.inStream = true;
    this.count = 0;
    this.checksum = 0;
    this.lastSeq = -1;
    this.append({ ...h, magic: MAGIC, version: FORMAT_VERSION });
  }

  private event(e: Event): void {
    if (!this.inStream) throw new RillError('stream', `event seq ${e.seq} (${e.type}) before any header record`);
    if (!(e.seq > this.lastSeq)) {
      throw new RillError('stream', `event seq ${e.seq} (${e.type}) does not follow seq ${this.lastSeq}: seq must increase`);
    }
    this.lastSeq = e.seq;
    this.count++;
    this.append(e);
  }

  private endStream(): void {
    if (!this.inStream) throw new RillError('stream', 'an end record outside a stream');
    const end: End = { type: 'end', count: this.count, checksum: this.checksum };
    if (this.lastSeq >= 0) end.lastSeq = this.lastSeq;
    this.append(end);
    this.emitFrame();
    this.inStream = false;
  }

  private append(rec: StreamRecord): void {
    const wire = recordToWire(rec);
    // A write's payload is not copied: its field is last on the wire, so the map is encoded with an
    // empty placeholder (0x40) whose byte is replaced by the real head, and the payload is referenced.
    const data = rec.type === 'write' && rec.data.length >= REFERENCE_MIN ? rec.data : undefined;
    if (data !== undefined) wire.data = EMPTY;
    const bytes = cborEncoder.encode(wire);
    const [buf, at] = this.frame.reserve(bytes.length + 8);
    buf.set(bytes, at); // a builtin: cheaper than Buffer#copy for the short records this mostly is
    if (data === undefined) {
      this.frame.unreserve(8);
    } else {
      const end = writeBstrHead(buf, at + bytes.length - 1, data.length);
      this.frame.unreserve(at + bytes.length + 8 - end);
      this.frame.reference(data);
    }
    if (this.frame.length >= this.frameBytes) this.emitFrame();
    else if (this.timer === undefined) this.timer = setImmediate(() => this.onIdle());
  }

  private onIdle(): void {
    this.timer = undefined;
    if (!this.destroyed) this.emitFrame();
  }

  private emitFrame(): void {
    const frame = this.frame.take();
    if (frame === undefined) return;
    for (const piece of frame.pieces) this.push(piece);
    this.checksum = chainChecksum(this.checksum, frame.crc);
  }

}
