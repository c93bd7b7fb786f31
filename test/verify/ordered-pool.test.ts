// The pool behind verify's parallel file comparisons: bounded, yet results in submission order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { OrderedPool } from '../../src/verify/ordered-pool.js';
import { mergeNames } from '../../src/verify/walk.js';

test('results come out in submission order although later tasks finish first', async () => {
  const out: number[] = [];
  let running = 0;
  let peak = 0;
  const pool = new OrderedPool<number>(3, 100, (n) => void out.push(n));
  for (let i = 0; i < 12; i++) {
    if (i % 4 === 3) {
      await pool.add(i);
      continue;
    }
    await pool.run(async () => {
      running++;
      peak = Math.max(peak, running);
      await sleep((12 - i) * 3);
      running--;
      return i;
    });
  }
  await pool.drain();
  assert.deepEqual(out, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  assert.equal(peak, 3);
});

test('at most maxQueued results wait behind a slow task', async () => {
  const delivered: number[] = [];
  const pool = new OrderedPool<number>(8, 4, (n) => void delivered.push(n));
  let release!: () => void;
  const slow = new Promise<void>((r) => (release = r));
  await pool.run(async () => (await slow, 0));
  for (let i = 1; i <= 2; i++) await pool.add(i);
  let third = false;
  const adding = pool.add(3).then(() => (third = true));
  await sleep(10);
  assert.equal(third, false, 'the fourth queued result waits for room');
  release();
  await adding;
  await pool.drain();
  assert.deepEqual(delivered, [0, 1, 2, 3]);
});

test('a failed task surfaces in order, after the results before it', async () => {
  const delivered: number[] = [];
  const pool = new OrderedPool<number>(4, 100, (n) => void delivered.push(n));
  await pool.run(async () => (await sleep(20), 1));
  await pool.run(async () => {
    throw new Error('boom');
  });
  await pool.run(async () => 3);
  await assert.rejects(pool.drain(), /boom/);
  assert.deepEqual(delivered, [1]);
});

test('names merge in byte order, non-UTF-8 bytes after ASCII', () => {
  const a = [Buffer.from('a'), Buffer.from('c'), Buffer.from('z')];
  const b = [Buffer.from('b'), Buffer.from('c'), Buffer.from([0x63, 0xe9]), Buffer.from([0xe9])];
  const merged = [...mergeNames(a, b)].map(({ name, inA, inB }) => `${name.toString('latin1')}:${inA ? 'A' : ''}${inB ? 'B' : ''}`);
  assert.deepEqual(merged, ['a:A', 'b:B', 'c:AB', 'c\xe9:B', 'z:A', '\xe9:B']);
});
