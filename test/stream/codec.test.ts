// Encoder/decoder: round trips, and every corruption or truncation is caught before a bad record is released.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RillError } from '../../src/errors.js';
import type { Event, StreamRecord } from '../../src/stream/events.js';
import { cborEncoder } from '../../src/stream/cbor.js';
import { FRAME_HEAD_BYTES, SIGNATURE, frameCrc, writeFrameHead } from '../../src/stream/frame.js';
import { eventsArb } from '../helpers/arbitrary.js';
import { decode, decodePartial, encode, fixedHeader } from '../helpers/codec.js';

/** Resolves when the promise rejects with a RillError whose one-line description matches. */
async function rejectsWith(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof RillError, `not a RillError: ${String(err)}`);
    assert.match(err.describe(), re);
    return true;
  });
}

const eventsOf = (recs: StreamRecord[]): StreamRecord[] => recs.filter((r) => r.type !== 'header' && r.type !== 'end');

/** One hand-built frame holding raw wire maps (bypasses the encoder's own checks). */
function rawFrame(maps: Record<string, unknown>[]): Buffer {
  const payload = Buffer.concat(maps.map((m) => Buffer.from(cborEncoder.encode(m))));
  const head = Buffer.alloc(FRAME_HEAD_BYTES);
  writeFrameHead(head, 0, frameCrc(payload), payload.length);
  return Buffer.concat([head, payload]);
}
const header = { type: 'header', magic: 'rill', version: 1, source: 's', node: 'n', kind: 'tree', created: 1, root: { path: '/' } };

test('random event sequences round-trip through encode and decode', async () => {
  await fc.assert(
    fc.asyncProperty(eventsArb(), fc.constantFrom(64, 1024, 256 * 1024), fc.constantFrom(1, 7, 4096, 1 << 16), async (events, frameBytes, chunk) => {
      const bytes = await encode(events.map((e) => ({ ...e })), { frameBytes });
      const recs = await decode(bytes, chunk);
      assert.deepEqual(eventsOf(recs), events);
      assert.equal(recs[0]!.type, 'header');
      assert.deepEqual(recs[0], { type: 'header', magic: 'rill', version: 1, ...fixedHeader });
      const end = recs.at(-1)!;
      assert.equal(end.type, 'end');
      assert.equal(end.type === 'end' && end.count, events.length);
    }),
    { numRuns: 150 },
  );
});

test('any flipped byte is detected and no record past it is released', async () => {
  await fc.assert(
    fc.asyncProperty(eventsArb(20), fc.nat(), fc.integer({ min: 1, max: 255 }), async (events, at, mask) => {
      const bytes = await encode(events, { frameBytes: 200 });
      const good = await decode(bytes);
      const bad = Buffer.from(bytes);
      const pos = at % bad.length;
      bad[pos]! ^= mask;
      const { records, error } = await decodePartial(bad, 97);
      assert.ok(error instanceof RillError, `flip at byte ${pos} of ${bad.length} went unnoticed`);
      assert.equal(error.kind, 'stream');
      assert.match(error.describe(), /^test, byte \d+/);
      // Whatever was released is an exact prefix of the good records.
      assert.deepEqual(records, good.slice(0, records.length));
    }),
    { numRuns: 300 },
  );
});

test('a stream cut at any length is reported as truncated, releasing only a prefix', async () => {
  const events: Event[] = Array.from({ length: 40 }, (_, i) => ({ type: 'write', seq: i + 1, path: `f${i % 3}`, offset: i * 10, data: Buffer.alloc(10, i) }));
  const bytes = await encode(events, { frameBytes: 100 });
  const good = await decode(bytes);
  for (let n = 0; n < bytes.length; n++) {
    const { records, error } = await decodePartial(bytes.subarray(0, n), 33);
    assert.ok(error instanceof RillError, `cut at ${n} went unnoticed`);
    assert.match(error.message, n === 0 ? /empty input/ : /truncated/);
    assert.deepEqual(records, good.slice(0, records.length));
    assert.ok(records.every((r) => r.type !== 'end'));
  }
});

test('concatenated streams decode as one sequence of streams', async () => {
  const a = await encode([{ type: 'mkdir', seq: 1, path: 'a', mode: 0o755 }]);
  const b = await encode([{ type: 'mkdir', seq: 1, path: 'b', mode: 0o700 }, { type: 'commit', seq: 2 }]);
  const recs = await decode(Buffer.concat([a, b]), 5);
  assert.deepEqual(recs.map((r) => r.type), ['header', 'mkdir', 'end', 'header', 'mkdir', 'commit', 'end']);
});

test('unknown record kinds: optional ones are skipped with a warning, others refused', async () => {
  const skip = Buffer.concat([SIGNATURE, rawFrame([header, { type: 'future', optional: true, seq: 1 }, { type: 'commit', seq: 2 }, { type: 'end', count: 1, checksum: 0, lastSeq: 2 }])]);
  const recs = await decode(skip);
  assert.deepEqual(recs.map((r) => r.type), ['header', 'commit', 'end']);
  const refuse = Buffer.concat([SIGNATURE, rawFrame([header, { type: 'future', seq: 1 }])]);
  await rejectsWith(decode(refuse), /record 2: unknown record type 'future' \(not optional\)/);
});

test('stream-level faults name the record', async () => {
  const cases: [Record<string, unknown>[], RegExp][] = [
    [[{ ...header, version: 2 }], /record 1: stream format version 2 is not readable by this rill \(reads 1\.\.1\)/],
    [[{ ...header, magic: 'tar' }], /header magic is "tar"/],
    [[{ type: 'commit', seq: 1 }], /starts with a commit record, not a header/],
    [[header, { type: 'commit', seq: 5 }, { type: 'commit', seq: 5 }], /record 3: commit event seq 5 does not follow seq 5/],
    [[header, { type: 'commit', seq: 1 }, { type: 'end', count: 2, checksum: 0, lastSeq: 1 }], /end record counts 2 events, the stream had 1/],
    [[header, { type: 'end', count: 0, checksum: 7 }], /checksum 0x00000007 does not match/],
    [[header, { type: 'write', seq: 1, path: '../etc/passwd', offset: 0, data: Buffer.alloc(1) }], /'\.\.' path component/],
    [[header, { type: 'write', seq: 1, path: '/etc/passwd', offset: 0, data: Buffer.alloc(1) }], /absolute path/],
    [[header, { type: 'write', seq: 1, path: 'a', offset: -1, data: Buffer.alloc(1) }], /field 'offset' must be an unsigned integer/],
    [[header, { type: 'mkdir', seq: 1, mode: 1 }], /mkdir record lacks field 'path'/],
    [[header, { type: 'end', count: 0, checksum: 0 }, { type: 'commit', seq: 1 }], /records after the end record/],
  ];
  for (const [maps, re] of cases) {
    await rejectsWith(decode(Buffer.concat([SIGNATURE, rawFrame(maps)])), re);
  }
});

test('garbage is not mistaken for a stream', async () => {
  await assert.rejects(decode(Buffer.from('{"type":"header"}\n')), /not a rill stream.*rill undump/);
  await assert.rejects(decode(Buffer.from('ustar tarball')), /not a rill stream: expected the rill signature/);
  const one = await encode([]);
  await assert.rejects(decode(Buffer.concat([one, Buffer.from('xx')])), /garbage after the end of a stream/);
});

test('a frame length beyond the limit is refused without waiting for the bytes', async () => {
  const head = Buffer.from([0x83, 0x00, 0x1a, 0, 0, 0, 0, 0x5a, 0x7f, 0xff, 0xff, 0xff]);
  await assert.rejects(decode(Buffer.concat([SIGNATURE, head])), /exceeds the 67108864-byte limit/);
});

test('large writes are carried in frames of their own size', async () => {
  const data = Buffer.alloc(3 * 1024 * 1024, 7);
  const recs = await decode(await encode([{ type: 'write', seq: 1, path: 'big', offset: 5, data }], { frameBytes: 4096 }));
  const w = recs[1]!;
  assert.ok(w.type === 'write' && w.data.equals(data));
});
