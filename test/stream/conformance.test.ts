// The wire format is plain CBOR: an independent decoder (cborg) reads a stream without rill's code.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeFirst, Tagged } from 'cborg';
import { frameCrc } from '../../src/stream/frame.js';
import { encode } from '../helpers/codec.js';

test('cborg reads the signature, the frames and every record', async () => {
  const bytes = await encode([
    { type: 'mkdir', seq: 1, path: 'd', mode: 0o755 },
    { type: 'create', seq: 2, path: 'd/caf\udce9', mode: 0o644 },
    { type: 'write', seq: 3, path: 'd/caf\udce9', offset: 0, data: Buffer.from('hi') },
    { type: 'utimes', seq: 4, path: '', atime: 1732500000123456789n, mtime: 5n },
  ]);
  const opts = { tags: Tagged.preserve(55800, 0x52494c4c), useMaps: false };
  let [sig, rest] = decodeFirst(bytes, opts) as [Tagged, Uint8Array];
  assert.equal(sig.tag, 55800);
  const inner = sig.value as Tagged;
  assert.equal(inner.tag, 0x52494c4c);
  assert.deepEqual(inner.value, new Uint8Array(Buffer.from('BOR')));
  const records: Record<string, unknown>[] = [];
  while (rest.length > 0) {
    let frame: unknown;
    [frame, rest] = decodeFirst(rest, opts) as [unknown, Uint8Array];
    assert.ok(Array.isArray(frame) && frame.length === 3);
    const [codec, crc, payload] = frame as [number, number, Uint8Array];
    assert.equal(codec, 0);
    assert.equal(crc, frameCrc(payload));
    let p = payload;
    while (p.length > 0) {
      let rec: unknown;
      [rec, p] = decodeFirst(p, opts) as [unknown, Uint8Array];
      records.push(rec as Record<string, unknown>);
    }
  }
  assert.deepEqual(records.map((r) => r.type), ['header', 'mkdir', 'create', 'write', 'utimes', 'end']);
  assert.deepEqual(records[2]!.path, new Uint8Array(Buffer.from('d/caf\xe9', 'latin1')), 'non-UTF-8 path as a byte string');
  assert.equal(records[4]!.atime, 1732500000123456789n);
  assert.equal(records[4]!.mtime, 5);
});
