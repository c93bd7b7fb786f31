// Read buffers come back only when released, and only pool buffers are taken back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BufferPool } from '../../src/capture/buffer-pool.js';

test('a released buffer is handed out again; an unreleased one never is', () => {
  const pool = new BufferPool(1024);
  const a = pool.take(1024);
  const b = pool.take(100);
  assert.notEqual(a.buffer, b.buffer, 'two buffers in flight never share memory');
  pool.release(b);
  const c = pool.take(512);
  assert.equal(c.buffer, b.buffer, 'the released buffer is reused');
  assert.notEqual(c.buffer, a.buffer);
  assert.equal(c.length, 512);
});

test('foreign buffers and double releases are ignored; oversized requests get fresh memory', () => {
  const pool = new BufferPool(64, 4);
  pool.release(Buffer.alloc(64));
  const a = pool.take(64);
  pool.release(a);
  pool.release(a.subarray(0, 10)); // a second view of the same buffer
  const b = pool.take(64);
  const c = pool.take(64);
  assert.equal(b.buffer, a.buffer);
  assert.notEqual(c.buffer, a.buffer, 'released twice, still handed out once');
  const big = pool.take(65);
  assert.equal(big.length, 65);
  pool.release(big);
  assert.notEqual(pool.take(64).buffer, big.buffer);
});
