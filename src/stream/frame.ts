// Frame layout of the rill stream: the RFC 9277 signature, and frames = CBOR [codec, crc32, payload].
// Writing uses one fixed 12-byte head; reading accepts any valid CBOR encoding of the same items.
import { crc32 } from './crc.js';

/** RFC 9277 stored-CBOR-sequence signature: tag 55800(tag 0x52494C4C ("RILL")("BOR")). */
export const SIGNATURE = Buffer.from('d9d9f8da52494c4c43424f52', 'hex');

/** Payload codecs (compress.ts): zstd and gzip are what ship negotiates with a sink; files use none. */
export const CODEC = { none: 0, zstd: 1, gzip: 2 } as const;
export const CODEC_NAMES: Record<number, string> = { 0: 'none', 1: 'zstd', 2: 'gzip' };

/** Readers refuse frames whose payload is longer (a corrupt length must not exhaust memory). */
export const MAX_FRAME_PAYLOAD = 64 * 1024 * 1024;
/** Bytes reserved in front of a payload for the frame head written by writeFrameHead. */
export const FRAME_HEAD_BYTES = 12;

/** Writes 0x83, codec (< 24), crc as uint32, payload length as bstr with a 4-byte length, at buf[0..12). */
export function writeFrameHead(buf: Buffer, codec: number, crc: number, payloadLength: number): void {
  buf[0] = 0x83;
  buf[1] = codec;
  buf[2] = 0x1a;
  buf.writeUInt32BE(crc >>> 0, 3);
  buf[7] = 0x5a;
  buf.writeUInt32BE(payloadLength, 8);
}

export function frameCrc(payload: Uint8Array): number {
  return crc32(payload) >>> 0;
}

/** Chains one frame CRC into the stream checksum carried by the end record. */
export function chainChecksum(checksum: number, frameCrcValue: number): number {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32BE(frameCrcValue >>> 0, 0);
  return crc32(b, checksum) >>> 0;
}

export interface CborHead {
  major: number;
  /** Argument value; -1 for indefinite length. */
  value: number;
  /** Bytes taken by the head. */
  length: number;
}

/**
 * Parses one CBOR data-item head at buf[pos]; undefined when more bytes are needed.
 * Throws a plain Error for heads that are not well-formed (reserved additional info).
 */
export function readHead(buf: Buffer, pos: number): CborHead | undefined {
  if (pos >= buf.length) return undefined;
  const ib = buf[pos]!;
  const major = ib >> 5;
  const info = ib & 0x1f;
  if (info < 24) return { major, value: info, length: 1 };
  const widths: Record<number, number> = { 24: 1, 25: 2, 26: 4, 27: 8 };
  const w = widths[info];
  if (w === undefined) {
    if (info === 31) return { major, value: -1, length: 1 };
    throw new Error(`malformed CBOR head 0x${ib.toString(16)}`);
  }
  if (pos + 1 + w > buf.length) return undefined;
  let value: number;
  if (w === 1) value = buf[pos + 1]!;
  else if (w === 2) value = buf.readUInt16BE(pos + 1);
  else if (w === 4) value = buf.readUInt32BE(pos + 1);
  else {
    const big = buf.readBigUInt64BE(pos + 1);
    value = big > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(big);
  }
  return { major, value, length: 1 + w };
}
