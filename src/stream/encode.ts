// Records -> rill stream bytes: signature, header, events batched into CRC'd frames, end record.
// The frames are made by StreamFramer (framer.ts), which the journal's segment writer shares.
import { Transform, type TransformCallback } from 'node:stream';
import { randomInt, randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { RillError } from '../errors.js';
import { FORMAT_VERSION, MAGIC, type Header, type RootKind, type StreamRecord } from './events.js';
import { payloadCompressor, type CodecName } from './compress.js';
import { StreamFramer } from './framer.js';

export interface EncoderOptions {
  /** A frame is closed once its payload reaches this many bytes (default 256 KiB). */
  frameBytes?: number;
  /** Payload codec (default none); a frame that would not shrink is written with codec none. */
  codec?: CodecName;
  /** Compression level for the codec (zstd 1..19, default 3; gzip 1..9, default 6). */
  level?: number;
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
    // Milliseconds from the clock, the nanoseconds below them random: `created` also tells two runs
    // of one source apart (replay refuses a change set of another run than the one it applied).
    created: BigInt(Date.now()) * 1_000_000n + BigInt(randomInt(1_000_000)),
  };
  if (init.full !== undefined) h.full = init.full;
  if (init.base !== undefined) h.base = init.base;
  return h;
}

/**
 * Object-mode writable (records), byte readable. Constructed with a header, it writes the header
 * first and an end record when ended, and takes only events. Constructed without one, it takes
 * header, event and end records as they come (undump); it computes each end record's count,
 * checksum and lastSeq itself, and keeps its `more` flag (a stream continued in a following part).
 * Write payloads are referenced, not copied: do not change a buffer after writing it. A frame is
 * emitted when full, at an end record, and whenever the event loop turns with records pending, so
 * a live stream is never held back.
 */
export class StreamEncoder extends Transform {
  private readonly autoHeader: HeaderInit | undefined;
  private readonly framer: StreamFramer;
  private timer: NodeJS.Immediate | undefined;

  constructor(header?: HeaderInit, options: EncoderOptions = {}) {
    super({ writableObjectMode: true, readableObjectMode: false });
    const compressor = payloadCompressor(options.codec ?? 'none', options.level);
    this.framer = new StreamFramer((pieces) => {
      for (const piece of pieces) this.push(piece);
    }, { frameBytes: options.frameBytes, compressor });
    this.autoHeader = header;
  }

  /** Takes one record, or an array of records (cheaper: one trip through the stream machinery). */
  override _transform(chunk: StreamRecord | StreamRecord[], _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      if (Array.isArray(chunk)) for (const rec of chunk) this.record(rec);
      else this.record(chunk);
      if (this.framer.pending > 0 && this.timer === undefined) this.timer = setImmediate(() => this.onIdle());
      cb();
    } catch (err) {
      cb(err as Error);
    }
  }

  private record(rec: StreamRecord): void {
    const f = this.framer;
    if (this.autoHeader !== undefined && !f.inStream) f.header({ type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...this.autoHeader });
    if (rec.type === 'header') f.header(rec);
    else if (rec.type === 'end') f.end(rec.more === true);
    else f.event(rec);
  }

  override _flush(cb: TransformCallback): void {
    try {
      const f = this.framer;
      if (this.autoHeader !== undefined) {
        if (!f.inStream) f.header({ type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...this.autoHeader });
        f.end();
      } else if (f.inStream) {
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

  private onIdle(): void {
    this.timer = undefined;
    if (!this.destroyed) this.framer.flush();
  }
}
