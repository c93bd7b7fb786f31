// Assembles one frame from record bytes without copying write payloads: small record bytes go into
// an arena that only moves forward (so regions already handed out are never overwritten), large
// payloads are referenced as they are, and the CRC is computed piece by piece.
import { crc32 } from './crc.js';
import { CODEC, FRAME_HEAD_BYTES, writeFrameHead } from './frame.js';
import type { PayloadCompressor } from './compress.js';

const ARENA_BYTES = 256 * 1024;

export class FrameBuilder {
  private arena = Buffer.allocUnsafe(ARENA_BYTES);
  /** A DataView of the arena (positions as in the arena), for writes Buffer makes garbage for (64-bit integers). */
  view = new DataView(this.arena.buffer, this.arena.byteOffset, this.arena.length);
  private pos = 0;
  /** Start of the arena segment not yet closed into `pieces`. */
  private segStart = 0;
  private pieces: Buffer[] = [];
  /** Payload bytes in the frame so far. */
  length = 0;

  /** Reserves n bytes of arena for record bytes and returns [buffer, offset] to write them at (view is then that buffer's). */
  reserve(n: number): [Buffer, number] {
    if (this.pos + n > this.arena.length) {
      this.closeSegment();
      this.arena = Buffer.allocUnsafe(Math.max(ARENA_BYTES, n));
      this.view = new DataView(this.arena.buffer, this.arena.byteOffset, this.arena.length);
      this.pos = this.segStart = 0;
    }
    const at = this.pos;
    this.pos += n;
    this.length += n;
    return [this.arena, at];
  }

  /** Gives back the unused tail of the last reservation. */
  unreserve(n: number): void {
    this.pos -= n;
    this.length -= n;
  }

  /** Adds a payload by reference: the caller must not change the buffer afterwards. */
  reference(data: Buffer): void {
    this.closeSegment();
    this.pieces.push(data);
    this.length += data.length;
  }

  /**
   * The finished frame as buffers to write in order (head first); undefined when empty. With a
   * compressor, the payload is stored compressed when that makes it shorter (else as it is), and
   * the CRC is over the stored bytes.
   */
  take(compressor?: PayloadCompressor): { pieces: Buffer[]; crc: number } | undefined {
    if (this.length === 0) return undefined;
    this.closeSegment();
    let stored = this.pieces;
    let codec: number = CODEC.none;
    let length = this.length;
    const packed = compressor?.compress(stored, length);
    if (packed !== undefined) {
      stored = [packed];
      codec = compressor!.codec;
      length = packed.length;
    }
    let crc = 0;
    for (const p of stored) crc = crc32(p, crc);
    crc >>>= 0;
    const head = Buffer.allocUnsafe(FRAME_HEAD_BYTES);
    writeFrameHead(head, codec, crc, length);
    const pieces = [head, ...stored];
    this.pieces = [];
    this.length = 0;
    return { pieces, crc };
  }

  private closeSegment(): void {
    if (this.pos > this.segStart) this.pieces.push(this.arena.subarray(this.segStart, this.pos));
    this.segStart = this.pos;
  }
}
