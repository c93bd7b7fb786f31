// The chunk queue hands out exact contiguous views whatever the chunking.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ByteQueue } from '../../src/stream/byte-queue.js';

test('peek and skip see the bytes in order under any chunking', () => {
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ maxLength: 40 }), { maxLength: 20 }), fc.array(fc.nat({ max: 50 }), { maxLength: 30 }), (chunks, reads) => {
      const all = Buffer.concat(chunks.map((c) => Buffer.from(c)));
      const q = new ByteQueue();
      for (const c of chunks) q.push(Buffer.from(c));
      let at = 0;
      for (const r of reads) {
        const n = Math.min(r, q.length);
        if (n > 0) assert.deepEqual(q.peek(n), all.subarray(at, at + n));
        const skip = Math.min(n, Math.ceil(n / 2));
        q.skip(skip);
        at += skip;
        assert.equal(q.length, all.length - at);
      }
    }),
  );
});
