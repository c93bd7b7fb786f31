// --bwlimit: parsing rates, and pacing. Timing checks assert only lower bounds (a slow machine is
// slower, never faster), so they cannot flake.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import { RillError } from '../../src/errors.js';
import { PacedStream, RateLimit, parseRate, writePaced } from '../../src/ship/rate.js';

const K = 1024;
const M = 1024 * 1024;
/** Allowed early finish: timers may fire up to a millisecond early, and clocks differ slightly. */
const SLACK_S = 0.05;

test('rates as people write them', () => {
  const cases: [string | undefined, number][] = [
    [undefined, 0],
    ['', 0],
    ['0', 0],
    ['0K', 0],
    ['2048', 2048],
    ['512K', 512 * K],
    ['512k', 512 * K],
    ['10M', 10 * M],
    ['1.5G', 1.5 * 1024 * M],
    ['1T', 1024 * 1024 * M],
    ['10MiB', 10 * M],
    ['10MB/s', 10 * M],
    ['.5M', 0.5 * M],
    [' 3K ', 3 * K],
  ];
  for (const [text, want] of cases) assert.equal(parseRate(text), want, String(text));
});

test('bad rates are usage errors naming the flag', () => {
  for (const text of ['fast', '10X', '-1M', '1,5M', '10 M B', 'M', '1e9', '0.1']) {
    assert.throws(
      () => parseRate(text),
      (err: unknown) => err instanceof RillError && err.kind === 'usage' && err.message.startsWith(`--bwlimit ${JSON.stringify(text)} `),
      text,
    );
  }
  assert.throws(() => parseRate('nope', '--rate'), /^RillError: --rate "nope" is not a rate/);
});

test('the bucket: a burst at once, then the rate (fake clock)', () => {
  let now = 0;
  const limit = new RateLimit(1000, { burst: 100, clock: () => now });
  assert.equal(limit.reserve(100), 0, 'the burst is free');
  assert.equal(limit.reserve(50), 50, '50 bytes of debt at 1000 B/s: 50 ms');
  assert.equal(limit.reserve(50), 100, 'queued behind the first debt');
  now = 100;
  assert.equal(limit.reserve(0), 0, 'debt repaid after 100 ms');
  now = 10_000;
  assert.equal(limit.reserve(100), 0, 'a long pause refills the bucket only up to the burst');
  assert.equal(limit.reserve(1), 1);
  const unlimited = new RateLimit(0);
  assert.ok(unlimited.unlimited);
  assert.equal(unlimited.reserve(1e12), 0);
});

test('pacing 2 MiB at 1 MiB/s takes at least (bytes - burst) / rate', async () => {
  const limit = new RateLimit(M);
  let written = 0;
  const sink = new Writable({
    highWaterMark: 16 * K,
    write(chunk: Buffer, _enc, cb) {
      written += chunk.length;
      cb();
    },
  });
  const t0 = performance.now();
  for (let i = 0; i < 32; i++) await writePaced(sink, Buffer.alloc(64 * K), limit);
  const seconds = (performance.now() - t0) / 1000;
  assert.equal(written, 2 * M);
  const floor = (2 * M - limit.burst) / M - SLACK_S;
  assert.ok(seconds >= floor, `took ${seconds.toFixed(3)} s, less than ${floor.toFixed(3)} s`);
});

test('PacedStream passes every byte through, in order, at the pace', async () => {
  const rate = 4 * M;
  const limit = new RateLimit(rate, { burst: 64 * K });
  const data = Buffer.alloc(M + 12345);
  for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
  const out: Buffer[] = [];
  const collect = new PassThrough();
  collect.on('data', (c: Buffer) => out.push(c));
  const t0 = performance.now();
  await pipeline(Readable.from([data.subarray(0, 1000), data.subarray(1000)]), new PacedStream(limit), collect);
  const seconds = (performance.now() - t0) / 1000;
  assert.ok(Buffer.concat(out).equals(data));
  const floor = (data.length - limit.burst) / rate - SLACK_S;
  assert.ok(seconds >= floor, `took ${seconds.toFixed(3)} s, less than ${floor.toFixed(3)} s`);
  assert.ok(Math.max(...out.map((c) => c.length)) <= 64 * K, 'big chunks are cut so they go out smoothly');
});

test('unlimited: chunks pass through as they are, without waiting', async () => {
  const limit = new RateLimit(parseRate('0'));
  const out: Buffer[] = [];
  const collect = new PassThrough();
  collect.on('data', (c: Buffer) => out.push(c));
  const big = Buffer.alloc(8 * M, 1);
  await pipeline(Readable.from([big]), new PacedStream(limit), collect);
  assert.equal(Buffer.concat(out).length, big.length);
});
