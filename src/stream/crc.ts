// CRC-32 (the zlib/gzip polynomial) of the stream's frames. Large buffers go through @node-rs/crc32
// (PCLMULQDQ folding: 11.7 GiB/s here against node:zlib's 5.2), small ones through node:zlib (one
// call costs less there); both give the same value. Why it matters: every byte captured, shipped
// and replayed is summed once, and on capture --mount's sequential writes the sum was a third of
// the Node process's CPU.
import { createRequire } from 'node:module';
import { crc32 as zlibCrc32 } from 'node:zlib';

/** Buffers at least this long go to the SIMD implementation. */
const SIMD_MIN = 16 * 1024;

type Crc32 = (data: Uint8Array, initial?: number) => number;

function simd(): Crc32 | undefined {
  try {
    return (createRequire(import.meta.url)('@node-rs/crc32') as { crc32: Crc32 }).crc32;
  } catch {
    return undefined; // no prebuilt binary for this platform: node:zlib does it all
  }
}

const fast = simd();

/** The CRC-32 of data, continuing from `previous` (the CRC of what came before it). */
export function crc32(data: Uint8Array, previous = 0): number {
  if (fast !== undefined && data.length >= SIMD_MIN) return fast(data, previous) >>> 0;
  return zlibCrc32(data, previous) >>> 0;
}
