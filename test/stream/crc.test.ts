// The stream's CRC-32: the SIMD path for large buffers (@node-rs/crc32) must give node:zlib's values,
// alone and chained across pieces of any sizes, since frames written by one are checked by the other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import { crc32 } from '../../src/stream/crc.js';

test('crc32 equals node:zlib on buffers around the SIMD threshold, chained from any previous value', () => {
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 70_000 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer(), (n, previous, seed) => {
      const b = Buffer.allocUnsafe(n);
      let x = seed >>> 0;
      for (let i = 0; i < n; i++) {
        x = (Math.imul(x, 1103515245) + 12345) >>> 0;
        b[i] = x >>> 24;
      }
      assert.equal(crc32(b, previous), zlibCrc32(b, previous) >>> 0);
    }),
    { numRuns: 200 },
  );
});

test('crc32 of a 1 MiB buffer cut into pieces chains to the CRC of the whole', () => {
  const b = Buffer.alloc(1 << 20);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >> 9)) & 0xff;
  const whole = zlibCrc32(b) >>> 0;
  for (const cuts of [[0], [17, 65_536], [16_384, 16_385, 500_000], [1_000_000]]) {
    let crc = 0;
    let at = 0;
    for (const cut of [...cuts, b.length]) {
      crc = crc32(b.subarray(at, cut), crc);
      at = cut;
    }
    assert.equal(crc, whole, `cuts ${cuts.join(',')}`);
  }
  // a view that does not start at its ArrayBuffer's start (a record in an arena)
  const big = Buffer.alloc(b.length + 7);
  b.copy(big, 7);
  assert.equal(crc32(big.subarray(7)), whole);
});
