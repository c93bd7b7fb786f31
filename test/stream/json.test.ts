// JSON lines: lossless for every record, readable for people, safe for jq.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { recordFromJson, recordToJson } from '../../src/stream/json.js';
import { eventArb } from '../helpers/arbitrary.js';

test('every event survives JSON and back (with --data)', () => {
  fc.assert(
    fc.property(eventArb, (e) => {
      const line = JSON.stringify(recordToJson(e, { data: true }));
      assert.ok(!line.includes('\n'));
      assert.deepEqual(recordFromJson(JSON.parse(line)), e);
    }),
    { numRuns: 2000 },
  );
});

test('nanosecond times and non-UTF-8 names keep every bit', () => {
  const e = { type: 'utimes' as const, seq: 9, path: 'caf\udce9/x', atime: 1732500000123456789n, mtime: -(2n ** 63n) };
  const j = recordToJson(e);
  assert.deepEqual(j, { type: 'utimes', seq: 9, path: { base64: Buffer.from('caf\xe9/x', 'latin1').toString('base64') }, atime: '1732500000123456789', mtime: '-9223372036854775808' });
  assert.deepEqual(recordFromJson(JSON.parse(JSON.stringify(j))), e);
});

test('without --data a write shows length and hash, and cannot be undumped', () => {
  const j = recordToJson({ type: 'write', seq: 1, path: 'a', offset: 0, data: Buffer.from('abc') });
  assert.deepEqual(j.data, { length: 3, sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' });
  assert.throws(() => recordFromJson(j), /dumped without --data/);
});

test('bad JSON records are named', () => {
  assert.throws(() => recordFromJson({ type: 'mkdir', seq: 1, path: 'a/../b', mode: 1 }), /'\.\.' path component/);
  assert.throws(() => recordFromJson({ type: 'utimes', seq: 1, path: 'a', atime: 1.5, mtime: '1' }), /field 'atime' must be an integer/);
  assert.throws(() => recordFromJson({ type: 'nope' }), /unknown record type 'nope'/);
  assert.throws(() => recordFromJson([1]), /must hold a JSON object/);
});
