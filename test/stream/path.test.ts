// File names are bytes: every byte string survives bytes -> Path -> bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bytesToPath, pathProblem, pathToBytes, showPath } from '../../src/stream/path.js';

test('any byte string round-trips and UTF-8 stays plain text', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (b) => {
      const p = bytesToPath(b);
      assert.deepEqual(pathToBytes(p), Buffer.from(b));
      if (Buffer.from(b).toString('utf8') === p) assert.ok(p.isWellFormed());
    }),
    { numRuns: 5000 },
  );
  fc.assert(fc.property(fc.string({ unit: 'grapheme' }), (s) => assert.equal(bytesToPath(Buffer.from(s)), s)));
});

test('encoded surrogates (invalid UTF-8) are escaped byte by byte', () => {
  const b = Buffer.from([0xed, 0xb2, 0x80, 0x41]);
  const p = bytesToPath(b);
  assert.equal(p, '\udced\udcb2\udc80A');
  assert.deepEqual(pathToBytes(p), b);
  assert.equal(showPath('caf\udce9'), '"caf\\xe9"');
});

test('path syntax rules', () => {
  assert.equal(pathProblem('a/b', false), undefined);
  assert.equal(pathProblem('', true), undefined);
  assert.match(pathProblem('', false)!, /empty path/);
  assert.match(pathProblem('/a', false)!, /absolute/);
  assert.match(pathProblem('a//b', false)!, /empty path component/);
  assert.match(pathProblem('a/./b', false)!, /'\.'/);
  assert.match(pathProblem('a/..', false)!, /'\.\.'/);
  assert.match(pathProblem('a\0b', false)!, /NUL/);
});
