// Compressed frames (codec zstd and gzip): round trips through both readers, the CRC over the stored
// bytes, damage caught before any record of the frame is released, the decompressed-size limit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { gunzipSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { decodeFirst } from 'cborg';
import type * as ZstdBinding from 'zstd-napi/binding.js';
import { RillError } from '../../src/errors.js';
import type { Event, StreamRecord } from '../../src/stream/events.js';
import { cborEncoder } from '../../src/stream/cbor.js';
import { CODEC, FRAME_HEAD_BYTES, MAX_FRAME_PAYLOAD, SIGNATURE, frameCrc, writeFrameHead } from '../../src/stream/frame.js';
import { decodableCodecs, decompressPayload, parseCodec, payloadCompressor, PayloadError, type CodecName } from '../../src/stream/compress.js';
import { readFrames } from '../../src/stream/reader.js';
import { StreamParser } from '../../src/stream/parser.js';
import { eventsArb } from '../helpers/arbitrary.js';
import { decode, encode } from '../helpers/codec.js';
import { tempDir } from '../helpers/tree.js';

const zstd = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof ZstdBinding;
const CODECS: CodecName[] = ['none', 'zstd', 'gzip'];
const eventsOf = (recs: StreamRecord[]): StreamRecord[] => recs.filter((r) => r.type !== 'header' && r.type !== 'end');

/** Text-like data that compresses well, different for every i. */
function text(i: number, n: number): Buffer {
  let s = '';
  while (s.length < n) s += `line ${i} of file ${i % 7}: the quick brown fox ${s.length}\n`;
  return Buffer.from(s.slice(0, n));
}

/** Events with compressible write payloads (several frames at 4 KiB). */
function sampleEvents(): Event[] {
  const events: Event[] = [{ type: 'mkdir', seq: 1, path: 'd', mode: 0o755 }];
  for (let i = 0; i < 20; i++) {
    events.push({ type: 'create', seq: events.length + 1, path: `d/f${i}`, mode: 0o644 });
    events.push({ type: 'write', seq: events.length + 1, path: `d/f${i}`, offset: 0, data: text(i, 500 + i * 300) });
  }
  events.push({ type: 'commit', seq: events.length + 1 });
  return events;
}

interface FrameInfo {
  start: number;
  codec: number;
  crc: number;
  payloadStart: number;
  length: number;
}

/** The frames of a single stream written by rill (12-byte heads). */
function framesOf(bytes: Buffer): FrameInfo[] {
  const out: FrameInfo[] = [];
  let pos = SIGNATURE.length;
  while (pos < bytes.length) {
    assert.equal(bytes[pos], 0x83);
    const length = bytes.readUInt32BE(pos + 8);
    out.push({ start: pos, codec: bytes[pos + 1]!, crc: bytes.readUInt32BE(pos + 3), payloadStart: pos + FRAME_HEAD_BYTES, length });
    pos += FRAME_HEAD_BYTES + length;
  }
  return out;
}

function frameBytes(codec: number, stored: Buffer): Buffer {
  const head = Buffer.alloc(FRAME_HEAD_BYTES);
  writeFrameHead(head, codec, frameCrc(stored), stored.length);
  return Buffer.concat([head, stored]);
}

const headerMap = { type: 'header', magic: 'rill', version: 1, source: 's', node: 'n', kind: 'tree', created: 1, root: { path: '/' } };
const cbor = (...maps: Record<string, unknown>[]): Buffer => Buffer.concat(maps.map((m) => Buffer.from(cborEncoder.encode(m))));

/** Steps the parser both readers share over the whole input: the records it released, and the error that stopped it. */
function parseAll(bytes: Buffer): { records: StreamRecord[]; error?: Error } {
  const parser = new StreamParser({ input: 'test' });
  const records: StreamRecord[] = [];
  let pos = 0;
  try {
    while (pos < bytes.length) {
      const step = parser.step(bytes.subarray(pos));
      if ('need' in step) break;
      pos += step.consumed;
      records.push(...step.records);
    }
    parser.finish(bytes.length - pos);
    return { records };
  } catch (error) {
    return { records, error: error as Error };
  }
}

async function readFile(path: string): Promise<StreamRecord[]> {
  const fd = openSync(path, 'r');
  try {
    const out: StreamRecord[] = [];
    // Records may point into the reader's buffers: compare them before asking for the next batch.
    for await (const batch of readFrames(fd, { input: path })) out.push(...structuredClone(batch));
    return out;
  } finally {
    closeSync(fd);
  }
}

for (const codec of CODECS) {
  test(`codec ${codec}: StreamEncoder → StreamDecoder and readFrames give the same records`, async () => {
    const events = sampleEvents();
    const bytes = await encode(events.map((e) => ({ ...e })), { codec, frameBytes: 4096 });
    const frames = framesOf(bytes);
    assert.ok(frames.length > 3, 'several frames');
    if (codec === 'none') assert.ok(frames.every((f) => f.codec === CODEC.none));
    else assert.ok(frames.filter((f) => f.codec === CODEC[codec]).length >= frames.length - 1, `frames stored with ${codec}: ${frames.map((f) => f.codec)}`);
    const plain = await encode(events.map((e) => ({ ...e })), { frameBytes: 4096 });
    if (codec !== 'none') assert.ok(bytes.length < plain.length / 2, `${codec} stream ${bytes.length} bytes, plain ${plain.length}`);
    const recs = await decode(bytes, 1000);
    assert.deepEqual(eventsOf(recs), events);
    assert.equal(recs.at(-1)!.type, 'end');
    const { dir, cleanup } = tempDir();
    try {
      writeFileSync(`${dir}/s.rill`, bytes);
      assert.deepEqual(await readFile(`${dir}/s.rill`), structuredClone(recs));
    } finally {
      cleanup();
    }
  });
}

test('the CRC is over the stored (compressed) bytes, which a standard decompressor reads', async () => {
  for (const codec of ['zstd', 'gzip'] as const) {
    const bytes = await encode(sampleEvents(), { codec, frameBytes: 4096 });
    const types: string[] = [];
    for (const f of framesOf(bytes)) {
      const stored = bytes.subarray(f.payloadStart, f.payloadStart + f.length);
      assert.equal(f.crc, frameCrc(stored), 'crc of the stored payload');
      let records = stored;
      if (f.codec === CODEC.gzip) records = gunzipSync(stored);
      if (f.codec === CODEC.zstd) records = zstdCli(stored) ?? decompressPayload(CODEC.zstd, stored);
      for (let p: Uint8Array = records; p.length > 0; ) {
        let rec: unknown;
        [rec, p] = decodeFirst(p, { useMaps: false }) as [unknown, Uint8Array];
        types.push((rec as { type: string }).type);
      }
    }
    assert.equal(types[0], 'header');
    assert.equal(types.at(-1), 'end');
    assert.equal(types.length, sampleEvents().length + 2);
  }
});

/** Decompresses with the zstd command when it is installed (an independent implementation). */
function zstdCli(stored: Buffer): Buffer | undefined {
  try {
    return execFileSync('zstd', ['-d', '-c', '-q'], { input: stored, maxBuffer: 1 << 26 });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

test('a frame that would not shrink is stored with codec none', async () => {
  const events: Event[] = [{ type: 'write', seq: 1, path: 'r', offset: 0, data: randomBytes(64 * 1024) }];
  for (const codec of ['zstd', 'gzip'] as const) {
    const bytes = await encode(events.map((e) => ({ ...e })), { codec, frameBytes: 1024 });
    const frames = framesOf(bytes);
    assert.equal(frames[0]!.codec, CODEC.none, `${codec}: random data stays as it is`);
    assert.deepEqual(eventsOf(await decode(bytes)), events);
  }
});

test('a flipped bit anywhere in a compressed frame is caught before any record of it is released', async () => {
  for (const codec of ['zstd', 'gzip'] as const) {
    const bytes = await encode(sampleEvents(), { codec, frameBytes: 4096 });
    const frames = framesOf(bytes);
    const target = frames[1]!;
    assert.equal(target.codec, CODEC[codec]);
    // What the frames before it release (then the cut input is an error).
    const releasedBefore = (parseAll(bytes.subarray(0, target.start))).records.length;
    assert.ok(releasedBefore > 0);
    const end = target.payloadStart + target.length;
    // Every bit of the head, and a spread of bits of the payload.
    const bits: number[] = [];
    for (let b = target.start * 8; b < target.payloadStart * 8; b++) bits.push(b);
    for (let b = target.payloadStart * 8; b < end * 8; b += 37) bits.push(b);
    for (const bit of bits) {
      const damaged = Buffer.from(bytes);
      damaged[bit >> 3]! ^= 1 << (bit & 7);
      const { records, error } = parseAll(damaged);
      assert.ok(error instanceof RillError, `${codec} bit ${bit - target.start * 8} of the frame: not detected`);
      assert.equal(records.length, releasedBefore, `${codec} bit ${bit - target.start * 8}: records of the damaged frame were released`);
    }
  }
});

test('a payload that decompresses beyond the limit is refused, and nothing of its frame is released', async () => {
  const big = Buffer.alloc(MAX_FRAME_PAYLOAD + 1);
  const zcctx = new zstd.CCtx();
  const zbuf = Buffer.alloc(zstd.compressBound(big.length));
  const zstdBomb = zbuf.subarray(0, zcctx.compress(zbuf, big, 1));
  for (const [name, codec, stored] of [
    ['gzip', CODEC.gzip, gzipSync(big, { level: 1 })],
    ['zstd', CODEC.zstd, zstdBomb],
  ] as const) {
    assert.ok(stored.length < 1 << 20, `${name} bomb is small (${stored.length} bytes)`);
    const first = Buffer.concat([SIGNATURE, frameBytes(CODEC.none, cbor(headerMap))]);
    const { records, error } = parseAll(Buffer.concat([first, frameBytes(codec, stored)]));
    assert.ok(error instanceof RillError, String(error));
    assert.match(error.describe(), new RegExp(`${name} payload decompresses to more than the ${MAX_FRAME_PAYLOAD}-byte limit`));
    assert.match(error.describe(), new RegExp(`^test, byte ${first.length}, record 2: corrupt frame`));
    assert.deepEqual(records.map((r) => r.type), ['header']);
  }
});

test('the limit holds while decoding: zstd without a content size, a lying content size, gzip members', () => {
  const data = text(1, 100_000);
  const cctx = new zstd.CCtx();
  cctx.setParameter(zstd.CParameter.contentSizeFlag, 0);
  const buf = Buffer.alloc(zstd.compressBound(data.length));
  const noSize = buf.subarray(0, cctx.compress2(buf, data));
  assert.equal(zstd.getFrameContentSize(noSize), null);
  assert.deepEqual(decompressPayload(CODEC.zstd, noSize), data);
  assert.throws(() => decompressPayload(CODEC.zstd, noSize, 50_000), /zstd payload decompresses to more than the 50000-byte limit/);
  // Two concatenated zstd frames (the first declares its size, the second does not).
  const sized = payloadCompressor('zstd')!.compress([data], data.length)!;
  assert.deepEqual(decompressPayload(CODEC.zstd, Buffer.concat([sized, noSize])), Buffer.concat([data, data]));
  assert.throws(() => decompressPayload(CODEC.zstd, Buffer.concat([sized, noSize]), 150_000), /more than the 150000-byte limit/);
  // A frame whose header declares a size over the limit is refused at once.
  assert.throws(() => decompressPayload(CODEC.zstd, sized, 99_999), /more than the 99999-byte limit/);
  // Cut short, or not zstd at all.
  assert.throws(() => decompressPayload(CODEC.zstd, noSize.subarray(0, noSize.length - 5)), /zstd payload is cut short/);
  assert.throws(() => decompressPayload(CODEC.zstd, Buffer.from('not zstd at all, not at all')), /zstd payload does not decompress/);
  // gzip: two members, and the limit.
  const two = Buffer.concat([gzipSync(data), gzipSync(data)]);
  assert.deepEqual(decompressPayload(CODEC.gzip, two), Buffer.concat([data, data]));
  assert.throws(() => decompressPayload(CODEC.gzip, two, 150_000), /gzip payload decompresses to more than the 150000-byte limit/);
  assert.throws(() => decompressPayload(CODEC.gzip, gzipSync(data).subarray(0, 100)), (err: unknown) => err instanceof PayloadError && /gzip payload does not decompress/.test(err.message));
  // The decoder stays usable after an error.
  assert.deepEqual(decompressPayload(CODEC.zstd, sized), data);
});

test('a compressed payload with a correct CRC but bad data, and an unknown codec, are clear errors', async () => {
  const good = gzipSync(cbor({ type: 'commit', seq: 1 }));
  for (const [codec, stored, re] of [
    [CODEC.gzip, good.subarray(0, good.length - 6), /corrupt frame: gzip payload does not decompress: .* \(codec gzip, \d+ bytes stored, CRC correct\)/],
    [CODEC.zstd, Buffer.from('28b52ffd00', 'hex'), /corrupt frame: zstd payload (is cut short|does not decompress)/],
    [7, cbor({ type: 'commit', seq: 1 }), /payload codec 7 is unknown to this rill \(it reads 0 none, 1 zstd, 2 gzip\)/],
  ] as const) {
    const bytes = Buffer.concat([SIGNATURE, frameBytes(CODEC.none, cbor(headerMap)), frameBytes(codec, stored)]);
    const { records, error } = parseAll(bytes);
    assert.ok(error instanceof RillError, String(error));
    assert.match(error.describe(), re);
    assert.equal(records.length, 1);
  }
});

test('random event batches × codec × frame size: the same records come back', async () => {
  await fc.assert(
    fc.asyncProperty(eventsArb(40), fc.constantFrom(...CODECS), fc.constantFrom(64, 1024, 256 * 1024), fc.nat({ max: 3000 }), async (events, codec, frameBytes, fill) => {
      // A compressible write first, so that compression happens as well as its fallback.
      const all: Event[] = [{ type: 'write', seq: 0, path: 'f', offset: 0, data: text(fill, fill) }, ...events];
      const bytes = await encode(all.map((e) => ({ ...e })), { codec, frameBytes });
      assert.deepEqual(eventsOf(await decode(bytes, 777)), all);
    }),
    { numRuns: 150 },
  );
});

test('codec names, levels and availability', () => {
  assert.deepEqual(decodableCodecs(), ['zstd', 'gzip', 'none']);
  assert.equal(parseCodec('zstd'), 'zstd');
  assert.throws(() => parseCodec('lz4'), (err: unknown) => err instanceof RillError && err.kind === 'usage' && /--compress "lz4": not a codec \(zstd, gzip or none\)/.test(err.message));
  assert.equal(payloadCompressor('none'), undefined);
  assert.equal(payloadCompressor('gzip', 9)!.codec, CODEC.gzip);
  assert.throws(() => payloadCompressor('zstd', 0), /compression level 0 is out of range for zstd \(1\.\.19\)/);
  assert.throws(() => payloadCompressor('gzip', 10), (err: unknown) => err instanceof RillError && err.kind === 'usage');
  assert.throws(() => payloadCompressor('gzip', 1.5), /out of range/);
});

test('man/rill-stream.5 documents every payload codec by number and name', () => {
  const page = readFileSync(new URL('../../man/rill-stream.5', import.meta.url), 'utf8');
  for (const [name, n] of Object.entries(CODEC)) assert.ok(page.includes(`\n${n}\t${name}\t`), `no codec table row "${n}\t${name}"`);
  assert.match(page, /for a compressed payload,\nthe compressed bytes/);
});
