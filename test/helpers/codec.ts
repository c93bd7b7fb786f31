// Encode records to bytes and decode bytes to records in memory, for codec tests.
import { Readable } from 'node:stream';
import { StreamEncoder, newHeader, type EncoderOptions, type HeaderInit } from '../../src/stream/encode.js';
import { StreamDecoder } from '../../src/stream/decode.js';
import type { Event, StreamRecord } from '../../src/stream/events.js';

export const fixedHeader = newHeader({ kind: 'tree', root: { path: '/srv/data', dev: 2049, ino: 2 }, node: 'n1', source: '00000000-0000-4000-8000-000000000001', full: true });

/** Events in one stream under `header` (default: fixedHeader, a full stream). */
export async function encode(events: Event[], options: EncoderOptions = {}, header: HeaderInit = fixedHeader): Promise<Buffer> {
  const enc = new StreamEncoder(header, options);
  const out: Buffer[] = [];
  enc.on('data', (c: Buffer) => out.push(Buffer.from(c)));
  const done = new Promise<void>((resolve, reject) => {
    enc.on('end', resolve);
    enc.on('error', reject);
  });
  for (const e of events) enc.write(e);
  enc.end();
  await done;
  return Buffer.concat(out);
}

/** Decodes bytes fed in chunks of `chunk` bytes; resolves with the records or rejects with the decoder's error. */
export async function decode(bytes: Buffer, chunk = 1 << 16): Promise<StreamRecord[]> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const dec = new StreamDecoder({ input: 'test' });
  Readable.from(parts).pipe(dec);
  const out: StreamRecord[] = [];
  for await (const b of dec) out.push(...(b as StreamRecord[]));
  return out;
}

/** Decodes as far as possible: the records released before an error, and the error. */
export async function decodePartial(bytes: Buffer, chunk = 1 << 16): Promise<{ records: StreamRecord[]; error?: Error }> {
  const parts: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += chunk) parts.push(bytes.subarray(i, i + chunk));
  const dec = new StreamDecoder({ input: 'test' });
  Readable.from(parts).pipe(dec);
  const records: StreamRecord[] = [];
  try {
    for await (const b of dec) records.push(...(b as StreamRecord[]));
    return { records };
  } catch (error) {
    return { records, error: error as Error };
  }
}
