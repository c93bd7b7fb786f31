// How differences are shown: text lines, JSON objects (raw bytes as base64, 64-bit values as strings), summaries.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatJson, formatText, majorMinor, octal, summaryJson, summaryText } from '../../src/verify/report.js';
import { DIFFERENCE_KINDS, SPARSE_SHOWN, type Difference } from '../../src/verify/difference.js';

const many: [number, number][] = Array.from({ length: SPARSE_SHOWN }, (_, i) => [i * 8192, i * 8192 + 4096]);
const cases: [Difference, string, object][] = [
  [{ kind: 'missing', path: 'caf\udce9', type: 'file' }, 'missing in B "caf\\xe9"', { type: 'file', path: { base64: 'Y2Fm6Q==' } }],
  [{ kind: 'extra', path: 'a\nb', type: 'dir' }, 'only in B "a\\nb"', { type: 'dir' }],
  [{ kind: 'type', path: 't', a: 'file', b: 'symlink' }, 'type "t": file != symlink', { a: 'file', b: 'symlink' }],
  [{ kind: 'size', path: 's', a: 1, b: 2 }, 'size "s": 1 != 2', { a: 1, b: 2 }],
  [{ kind: 'mode', path: 'm', a: 0o6755, b: 0o0 }, 'mode "m": 06755 != 0000', { a: '06755', b: '0000' }],
  [{ kind: 'owner', path: 'o', a: { uid: 0, gid: 0 }, b: { uid: 1000, gid: 50 } }, 'owner "o": 0:0 != 1000:50', { a: { uid: 0, gid: 0 }, b: { uid: 1000, gid: 50 } }],
  [{ kind: 'mtime', path: '', a: 1732500000123456789n, b: 1732500000123456790n }, 'mtime ".": 1732500000123456789 != 1732500000123456790', { path: '', a: '1732500000123456789', b: '1732500000123456790' }],
  [{ kind: 'atime', path: 'x', a: -1n, b: 0n }, 'atime "x": -1 != 0', { a: '-1', b: '0' }],
  [{ kind: 'rdev', path: 'c', a: 0x103n, b: 0x105n }, 'rdev "c": 1:3 != 1:5', { a: '1:3', b: '1:5' }],
  [{ kind: 'target', path: 'l', a: Buffer.from('x'), b: Buffer.from([0xff]) }, 'target "l": "x" != "\\xff"', { a: 'x', b: { base64: '/w==' } }],
  [{ kind: 'xattr', path: 'f', name: Buffer.from('user.a'), a: Buffer.from('1'), b: null }, 'xattr "f": "user.a" missing in B', { name: 'user.a', a: '1', b: null }],
  [{ kind: 'xattr', path: 'f', name: Buffer.from('user.a'), a: null, b: Buffer.alloc(80) }, 'xattr "f": "user.a" only in B', { a: null }],
  [{ kind: 'xattr', path: 'f', name: Buffer.from('user.a'), a: Buffer.from('v'), b: Buffer.from([0xc3]) }, 'xattr "f": "user.a" "v" != (1 bytes, sha256 ', { b: { base64: 'ww==' } }],
  [{ kind: 'links', path: 'g', a: 'f', b: null }, 'links "g": linked to "f" in A, not linked to an earlier name in B', { a: 'f', b: null }],
  [{ kind: 'sparse', path: 's', a: [[0, 4096]], b: [], truncated: false }, 'sparse "s": data [0,4096) != none', { a: [[0, 4096]], b: [], truncated: false }],
  [{ kind: 'sparse', path: 's', a: many, b: [[0, 1]], truncated: true }, `sparse "s": data ${many.map(([x, y]) => `[${x},${y})`).join(' ')} ... != [0,1)`, { truncated: true }],
  [{ kind: 'content', path: 'c', offset: 4096 }, 'content "c": differs at byte 4096', { offset: 4096 }],
];

test('every kind has a text line and a JSON object', () => {
  assert.deepEqual([...new Set(cases.map(([d]) => d.kind))].sort(), [...DIFFERENCE_KINDS].sort());
  for (const [d, text, fields] of cases) {
    assert.ok(formatText(d).startsWith(text), `${formatText(d)} starts with ${text}`);
    const obj = JSON.parse(formatJson(d)) as Record<string, unknown>;
    assert.equal(obj.kind, d.kind);
    assert.deepEqual({ ...obj, ...fields }, obj, `${formatJson(d)} holds ${JSON.stringify(fields)}`);
  }
});

test('device numbers decode as glibc encodes them (12+ bit majors, 20-bit minors)', () => {
  const makedev = (major: bigint, minor: bigint) =>
    ((major & 0xfffff000n) << 32n) | ((major & 0xfffn) << 8n) | ((minor & 0xffffff00n) << 12n) | (minor & 0xffn);
  assert.equal(majorMinor(makedev(259n, 70000n)), '259:70000');
  assert.equal(majorMinor(makedev(4096n, 1n)), '4096:1');
  assert.equal(majorMinor(0n), '0:0');
  assert.equal(octal(0o644), '0644');
});

test('summaries: identical with bytes, or differences in entries', () => {
  assert.equal(summaryText({ differences: 0, entries: 1, bytes: 1, stopped: false }), 'identical: 1 entry, 1 byte');
  assert.equal(summaryText({ differences: 0, entries: 12, bytes: 4096, stopped: false }), 'identical: 12 entries, 4096 bytes');
  assert.equal(summaryText({ differences: 3, entries: 12, bytes: 9, stopped: false }), '3 differences in 12 entries');
  assert.equal(summaryText({ differences: 1, entries: 2, bytes: 9, stopped: true }), '1 difference in 2 entries (stopped early)');
  assert.deepEqual(JSON.parse(summaryJson({ differences: 0, entries: 2, bytes: 5, stopped: false })), {
    kind: 'summary', identical: true, differences: 0, entries: 2, bytes: 5,
  });
});
