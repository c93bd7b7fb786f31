// Records -> rill stream bytes: signature, header, events batched into CRC'd frames, end record.
import { Transform, type TransformCallback } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RillError } from '../errors.js';
import { FORMAT_VERSION, MAGIC, type End, type Event, type Header, type RootKind, type StreamRecord } from './events.js';
import { cborEncoder } from './cbor.js';
import { CODEC, FRAME_HEAD_BYTES, SIGNATURE, chainChecksum, frameCrc, writeFrameHead } from './frame.js';
import { recordToWire } from './wire.js';

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
}): HeaderInit {
  const h: HeaderInit = {
    source: init.source ?? randomUUID(),
    node: init.node ?? hostname(),
    kind: init.kind,
    root: init.root,
    created: BigInt(Date.now()) * 1_000_000n,
  };
  if (init.full !== undefined) h.full = init.full;
  return h;
}

/**
 * Object-mode writable (records), byte readable. Constructed with a header, it writes the header
 * first and an end record when ended, and takes only events. Constructed without one, it takes
 * header, event and end records as they come (undump); it computes each end record's count,
 * checksum and lastSeq itself. A frame is emitted when full, at an end record, and whenever the
 * event loop turns with records pending, so a live stream is never held back.
 */
export class StreamEncoder extends Transform {
  private readonly frameBytes: number;
  private readonly autoHeader: HeaderInit | undefined;
  private buf: Buffer;
  private pos = FRAME_HEAD_BYTES;
  private inStream = false;
  private count = 0;
  private checksum = 0;
  private lastSeq = -1;
  private timer: NodeJS.Immediate | undefined;

  constructor(header?: HeaderInit, options: EncoderOptions = {}) {
    super({ writableObjectMode: true, readableObjectMode: false });
    this.frameBytes = options.frameBytes ?? 256 * 1024;
    this.buf = Buffer.allocUnsafe(this.frameBytes + FRAME_HEAD_BYTES + 1024);
    this.autoHeader = header;
  }

  override _transform(rec: StreamRecord, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      if (this.autoHeader !== undefined && !this.inStream) this.startStream({ type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...this.autoHeader });
      if (rec.type === 'header') this.startStream(rec);
      else if (rec.type === 'end') this.endStream();
      else this.event(rec);
      cb();
    } catch (err) {
      cb(err as Error);
    }
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
    const bytes = cborEncoder.encode(recordToWire(rec));
    if (this.pos + bytes.length > this.buf.length) {
      this.emitFrame();
      if (FRAME_HEAD_BYTES + bytes.length > this.buf.length) this.buf = Buffer.allocUnsafe(FRAME_HEAD_BYTES + bytes.length);
    }
    bytes.copy(this.buf, this.pos);
    this.pos += bytes.length;
    if (this.pos - FRAME_HEAD_BYTES >= this.frameBytes) this.emitFrame();
    else if (this.timer === undefined) this.timer = setImmediate(() => this.onIdle());
  }

  private onIdle(): void {
    this.timer = undefined;
    if (!this.destroyed) this.emitFrame();
  }

  private emitFrame(): void {
    const length = this.pos - FRAME_HEAD_BYTES;
    if (length === 0) return;
    const crc = frameCrc(this.buf.subarray(FRAME_HEAD_BYTES, this.pos));
    writeFrameHead(this.buf, CODEC.none, crc, length);
    this.push(this.buf.subarray(0, this.pos));
    this.checksum = chainChecksum(this.checksum, crc);
    this.buf = Buffer.allocUnsafe(Math.max(this.frameBytes + FRAME_HEAD_BYTES + 1024, 64 * 1024));
    this.pos = FRAME_HEAD_BYTES;
  }
}
