// The file behind capture --state: a signature, then frames laid out like the stream's
// (CBOR [codec, crc32, payload]), each payload a CBOR sequence of records; the first record is the
// header, the last a trailer with the record count. Written to a temp file beside the target and
// renamed over it only on commit (fsync before and after), so a failed run leaves the old state.
// The trailer (count, checksum, the seq the state ends at) is the last frame, followed by that
// frame's length as 4 big-endian bytes, so opening a state reads its header and trailer only.
// Read sequentially (bounded memory) or at a record reference (frame offset, index in frame).
import { closeSync, constants, fstatSync, fsyncSync, openSync, readSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { RillError } from '../errors.js';
import { cborDecoder, cborEncoder } from '../stream/cbor.js';
import { chainChecksum, FRAME_HEAD_BYTES, frameCrc, MAX_FRAME_PAYLOAD, writeFrameHead } from '../stream/frame.js';

/** RFC 9277 signature: tag 55800(tag 0x52494C4C ("RILL")("STATE")). */
export const STATE_SIGNATURE = Buffer.from('d9d9f8da52494c4c455354415445', 'hex');
export const STATE_MAGIC = 'rill-state';
export const STATE_VERSION = 1;

/** First record of a state file. */
export interface StateHeader {
  magic: typeof STATE_MAGIC;
  version: number;
  kind: 'tree' | 'volume';
  /** Source id of the streams this state numbers (stable across runs). */
  source: string;
  node: string;
  /** The captured root: its absolute path and identity when the state was written. */
  root: { path: string; dev: number; ino: number };
  blockSize: number;
  /** ms since the epoch. */
  created: number;
}

/** A record's place: frame offset * 2^16 + index within the frame (frames hold < 2^16 records). */
export type RecordRef = number;
const REFS_PER_FRAME = 0x10000;
const FRAME_RECORDS = 4096;
const FRAME_BYTES = 256 * 1024;

interface Trailer {
  end: true;
  count: number;
  checksum: number;
  /** seq of the last event of the stream whose end this state describes. */
  lastSeq: number;
}

function corrupt(file: string, why: string, offset?: number): RillError {
  const at = offset === undefined ? '' : ` at byte ${offset}`;
  return new RillError('mismatch', `state file ${JSON.stringify(file)} is corrupt${at}: ${why}`, {
    path: file,
    hint: 'capture again with --full to rebuild it (the next stream is then a full one)',
  });
}

/** Writes a state file: header, records, trailer; nothing replaces `file` until commit(). */
export class StateWriter {
  readonly temp: string;
  private fd: number;
  private offset = 0;
  private parts: Buffer[] = [];
  private bytes = 0;
  private inFrame = 0;
  private count = 0;
  private checksum = 0;
  private closed = false;

  constructor(
    readonly file: string,
    header: StateHeader,
  ) {
    this.temp = `${dirname(file)}/.${basename(file)}.${process.pid}.tmp`;
    try {
      this.fd = openSync(this.temp, constants.O_CREAT | constants.O_TRUNC | constants.O_WRONLY | constants.O_NOFOLLOW, 0o600);
    } catch (err) {
      throw new RillError('io', `cannot write state file ${JSON.stringify(file)}: ${(err as Error).message}`, { path: file, cause: err });
    }
    this.write(STATE_SIGNATURE);
    this.parts.push(Buffer.from(cborEncoder.encode(header)));
    this.flushFrame(); // the header alone in the first frame: read without the rest
  }

  /** Appends a record (any CBOR-encodable value); returns where it is. */
  add(record: unknown): RecordRef {
    const enc = Buffer.from(cborEncoder.encode(record));
    if (this.inFrame >= FRAME_RECORDS || (this.bytes > 0 && this.bytes + enc.length > FRAME_BYTES)) this.flushFrame();
    const ref = this.offset * REFS_PER_FRAME + this.inFrame;
    this.parts.push(enc);
    this.bytes += enc.length;
    this.inFrame++;
    this.count++;
    return ref;
  }

  /** Writes the trailer (the stream this state describes ended at lastSeq) and closes the temp file (still not in place). */
  close(lastSeq: number): void {
    if (this.closed) return;
    this.flushFrame();
    const trailer: Trailer = { end: true, count: this.count, checksum: this.checksum, lastSeq };
    this.parts.push(Buffer.from(cborEncoder.encode(trailer)));
    const before = this.offset;
    this.flushFrame();
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(this.offset - before);
    this.write(length);
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.closed = true;
  }

  /** Puts the file in place atomically and durably. */
  commit(lastSeq: number): void {
    this.close(lastSeq);
    try {
      renameSync(this.temp, this.file);
      const dir = openSync(dirname(this.file), constants.O_RDONLY | constants.O_DIRECTORY);
      try {
        fsyncSync(dir);
      } finally {
        closeSync(dir);
      }
    } catch (err) {
      throw new RillError('io', `cannot put state file ${JSON.stringify(this.file)} in place: ${(err as Error).message}`, { path: this.file, cause: err });
    }
  }

  /** Drops the temp file: the old state stays. */
  discard(): void {
    if (!this.closed) {
      closeSync(this.fd);
      this.closed = true;
    }
    try {
      unlinkSync(this.temp);
    } catch {
      // already gone
    }
  }

  private flushFrame(): void {
    if (this.parts.length === 0) return;
    const payload = Buffer.concat(this.parts);
    const crc = frameCrc(payload);
    const head = Buffer.allocUnsafe(FRAME_HEAD_BYTES);
    writeFrameHead(head, 0, crc, payload.length);
    this.write(head);
    this.write(payload);
    this.checksum = chainChecksum(this.checksum, crc);
    this.parts = [];
    this.bytes = 0;
    this.inFrame = 0;
  }

  private write(buf: Buffer): void {
    let done = 0;
    try {
      while (done < buf.length) done += writeSync(this.fd, buf, done, buf.length - done);
    } catch (err) {
      throw new RillError('io', `cannot write state file ${JSON.stringify(this.file)}: ${(err as Error).message}`, { path: this.file, cause: err });
    }
    this.offset += buf.length;
  }
}

/** Reads a state file: its header at once, records sequentially or by reference. */
export class StateReader {
  readonly header: StateHeader;
  /** seq of the last event of the stream whose end this state describes. */
  readonly lastSeq: number;
  private readonly fd: number;
  private readonly size: number;
  private readonly first: number; // offset of the first record frame
  private readonly trailerAt: number;
  private readonly trailer: Trailer;
  private cached: { offset: number; records: unknown[] } | undefined;

  /** Opens and checks the signature and header; undefined when the file does not exist. */
  static open(file: string): StateReader | undefined {
    let fd: number;
    try {
      fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new RillError('io', `cannot read state file ${JSON.stringify(file)}: ${(err as Error).message}`, { path: file, cause: err });
    }
    try {
      return new StateReader(file, fd);
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  private constructor(
    readonly file: string,
    fd: number,
  ) {
    this.fd = fd;
    this.size = fstatSync(fd).size;
    const sig = this.read(0, STATE_SIGNATURE.length);
    if (!sig.equals(STATE_SIGNATURE)) throw corrupt(file, 'it is not a rill state file (wrong signature)', 0);
    const { records, next } = this.frameAt(STATE_SIGNATURE.length);
    const h = records[0] as StateHeader | undefined;
    if (records.length !== 1 || h?.magic !== STATE_MAGIC || typeof h.source !== 'string' || !(h.blockSize >= 1)) {
      throw corrupt(file, 'its header is not a rill state header', STATE_SIGNATURE.length);
    }
    if (h.version !== STATE_VERSION) {
      throw new RillError('mismatch', `state file ${JSON.stringify(file)} has version ${h.version}; this rill reads version ${STATE_VERSION}`, { path: file, hint: 'capture with --full to rebuild it' });
    }
    this.header = h;
    this.first = next;
    if (this.size < next + 4) throw corrupt(file, 'it ends without its trailer (truncated)', this.size);
    const length = this.read(this.size - 4, 4).readUInt32BE(0);
    this.trailerAt = this.size - 4 - length;
    const t = this.trailerAt >= next ? (this.frameAt(this.trailerAt).records[0] as Partial<Trailer> | undefined) : undefined;
    if (t?.end !== true || !Number.isSafeInteger(t.lastSeq) || !Number.isSafeInteger(t.count)) throw corrupt(file, 'its trailer is missing (truncated?)', this.trailerAt);
    this.trailer = t as Trailer;
    this.lastSeq = this.trailer.lastSeq;
  }

  /** Every record in order, with its reference; checks the trailer (a truncated file is an error). */
  *records(): Generator<[RecordRef, unknown]> {
    let offset = this.first;
    let count = 0;
    let checksum = chainChecksum(0, this.crcAt(STATE_SIGNATURE.length));
    while (offset < this.trailerAt) {
      const { records, next, crc } = this.frameAt(offset);
      for (let i = 0; i < records.length; i++) {
        count++;
        yield [offset * REFS_PER_FRAME + i, records[i]];
      }
      checksum = chainChecksum(checksum, crc);
      offset = next;
    }
    if (offset !== this.trailerAt || this.trailer.count !== count || this.trailer.checksum !== checksum) {
      throw corrupt(this.file, 'its trailer does not match its records (frames lost, added or reordered)', offset);
    }
  }

  /** The record at ref (the frame of the last lookup is kept: nearby lookups cost nothing). */
  at(ref: RecordRef): unknown {
    const offset = Math.floor(ref / REFS_PER_FRAME);
    if (this.cached?.offset !== offset) this.cached = { offset, records: this.frameAt(offset).records };
    const rec = this.cached.records[ref % REFS_PER_FRAME];
    if (rec === undefined) throw corrupt(this.file, `no record ${ref % REFS_PER_FRAME} in the frame`, offset);
    return rec;
  }

  close(): void {
    closeSync(this.fd);
  }

  private crcAt(offset: number): number {
    return this.read(offset, FRAME_HEAD_BYTES).readUInt32BE(3);
  }

  private frameAt(offset: number): { records: unknown[]; next: number; crc: number } {
    const head = this.read(offset, FRAME_HEAD_BYTES);
    if (head[0] !== 0x83 || head[1] !== 0 || head[2] !== 0x1a || head[7] !== 0x5a) throw corrupt(this.file, 'a frame head is malformed', offset);
    const crc = head.readUInt32BE(3);
    const length = head.readUInt32BE(8);
    if (length > MAX_FRAME_PAYLOAD || offset + FRAME_HEAD_BYTES + length > this.size) throw corrupt(this.file, 'a frame runs past the end (truncated)', offset);
    const payload = this.read(offset + FRAME_HEAD_BYTES, length);
    if (frameCrc(payload) !== crc) throw corrupt(this.file, 'a frame fails its CRC', offset);
    let records: unknown[];
    try {
      records = cborDecoder.decodeMultiple(payload) as unknown[];
    } catch (err) {
      throw corrupt(this.file, `a frame does not decode (${(err as Error).message})`, offset);
    }
    return { records, next: offset + FRAME_HEAD_BYTES + length, crc };
  }

  private read(offset: number, length: number): Buffer {
    const buf = Buffer.allocUnsafe(length);
    let got = 0;
    while (got < length) {
      const n = readSync(this.fd, buf, got, length - got, offset + got);
      if (n === 0) throw corrupt(this.file, 'it ends in the middle of a frame (truncated)', offset + got);
      got += n;
    }
    return buf;
  }
}
