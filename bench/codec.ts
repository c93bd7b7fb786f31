// Codec throughput: encode and decode MB/s for 64 KiB writes, events/s for small metadata events.
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StreamEncoder, newHeader } from '../dist/stream/encode.js';
import { StreamDecoder } from '../dist/stream/decode.js';
import type { Event } from '../dist/stream/events.js';

export interface CodecFigures {
  name: string;
  events: number;
  bytes: number;
  encodeSeconds: number;
  decodeSeconds: number;
}

/** Groups events in arrays of up to 256, as producers hand them to the encoder. */
function* batches(events: Iterable<Event>): Iterable<Event[]> {
  let batch: Event[] = [];
  for (const e of events) {
    batch.push(e);
    if (batch.length === 256) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

async function encodeAll(events: () => Iterable<Event>): Promise<{ chunks: Buffer[]; bytes: number; seconds: number }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  await pipeline(
    Readable.from(batches(events()), { objectMode: true, highWaterMark: 16 }),
    new StreamEncoder(newHeader({ kind: 'tree', root: { path: '/bench' } })),
    new Writable({
      write(c: Buffer, _e, cb) {
        chunks.push(c);
        bytes += c.length;
        cb();
      },
    }),
  );
  return { chunks, bytes, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

async function decodeAll(chunks: Buffer[]): Promise<{ events: number; seconds: number }> {
  let events = 0;
  const t0 = process.hrtime.bigint();
  const pipeChunks = function* (): Iterable<Buffer> {
    // Re-cut into 64 KiB pieces, as a pipe delivers them.
    for (const c of chunks) for (let i = 0; i < c.length; i += 65536) yield c.subarray(i, i + 65536);
  };
  await pipeline(
    Readable.from(pipeChunks()),
    new StreamDecoder(),
    new Writable({
      objectMode: true,
      highWaterMark: 1024,
      write(batch: unknown[], _e, cb) {
        events += batch.length;
        cb();
      },
    }),
  );
  return { events, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

export async function codecBench(quick: boolean): Promise<CodecFigures[]> {
  const writes = quick ? 1024 : 16384; // 64 KiB each: 64 MiB or 1 GiB
  const smalls = quick ? 100_000 : 1_000_000;
  const payload = Buffer.alloc(64 * 1024, 0x5a);
  const big = function* (): Iterable<Event> {
    for (let i = 0; i < writes; i++) yield { type: 'write', seq: i + 1, path: `dir/file${i >> 8}`, offset: (i & 255) * 65536, data: payload };
  };
  const small = function* (): Iterable<Event> {
    for (let i = 0; i < smalls; i++) {
      const path = `d${i >> 10}/f${i}`;
      const k = i % 3;
      if (k === 0) yield { type: 'create', seq: i + 1, path, mode: 0o644 };
      else if (k === 1) yield { type: 'chown', seq: i + 1, path, uid: 1000, gid: 1000 };
      else yield { type: 'utimes', seq: i + 1, path, atime: 1732500000123456789n, mtime: 1732500000123456789n };
    }
  };
  const out: CodecFigures[] = [];
  for (const [name, gen] of [['64 KiB writes', big], ['small events', small]] as const) {
    const enc = await encodeAll(gen);
    const dec = await decodeAll(enc.chunks);
    out.push({ name, events: dec.events - 2, bytes: enc.bytes, encodeSeconds: enc.seconds, decodeSeconds: dec.seconds });
  }
  return out;
}
