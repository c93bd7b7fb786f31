// One test per kind of difference: each builds A, then B from the same spec with one change, and
// asserts the exact lines verify reports (differences > 0 is what makes `rill verify` exit 1).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { makeTree, tempDir, isRoot, requireCapability, type EntrySpec, type MetaSpec } from '../helpers/tree.js';
import { verifyTrees } from '../../src/verify/verify.js';
import { formatText } from '../../src/verify/report.js';
import type { VerifyOptions } from '../../src/verify/difference.js';

const T = 1732500000123456789n;
const MiB = 1 << 20;

interface Spec {
  entries: EntrySpec[];
  meta?: MetaSpec[];
}

/** Every entry and the root stamped with a fixed ns mtime (the root last: creating entries changes it). */
function stamped({ entries, meta = [] }: Spec): MetaSpec[] {
  const each = entries.filter((e) => e.type !== 'link').map((e) => ({ path: e.path, mtime: T }));
  return [...each, ...meta, { path: '', mtime: T }];
}

/** Builds A and B, verifies, and returns the text lines reported. */
async function diff(t: TestContext, a: Spec, b: Spec, options: VerifyOptions = {}): Promise<string[]> {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/a`, a.entries, stamped(a));
  makeTree(`${dir}/b`, b.entries, stamped(b));
  const lines: string[] = [];
  const summary = await verifyTrees(`${dir}/a`, `${dir}/b`, options, (d) => void lines.push(formatText(d)));
  assert.equal(summary.differences, lines.length);
  return lines;
}

const file = (path: string, content: string | Buffer, mode?: number): EntrySpec => ({ type: 'file', path, content, mode });

test('content: only the last byte of a 3 MiB file differs', async (t) => {
  const a = Buffer.alloc(3 * MiB, 0x5a);
  const b = Buffer.from(a);
  b[b.length - 1] = 0x5b;
  const lines = await diff(t, { entries: [file('big', a)] }, { entries: [file('big', b)] });
  assert.deepEqual(lines, [`content "big": differs at byte ${3 * MiB - 1}`]);
});

test('content: a difference after a hole shared by both sides is found at its offset', async (t) => {
  const sparse = (byte: number): EntrySpec => ({
    type: 'file', path: 's', size: 8 * MiB,
    extents: [{ offset: 0, data: Buffer.alloc(4096, 1) }, { offset: 6 * MiB, data: Buffer.alloc(4096, byte) }],
  });
  const lines = await diff(t, { entries: [sparse(2)] }, { entries: [sparse(3)] });
  assert.deepEqual(lines, [`content "s": differs at byte ${6 * MiB}`]);
});

test('content: data in B where A has a hole is compared, not skipped (--no-sparse)', async (t) => {
  const a: EntrySpec = { type: 'file', path: 's', size: 3 * MiB, extents: [{ offset: 0, data: Buffer.alloc(4096, 1) }] };
  const b: EntrySpec = { ...a, extents: [...a.extents!, { offset: 2 * MiB, data: Buffer.from('x') }] } as EntrySpec;
  assert.deepEqual(await diff(t, { entries: [a] }, { entries: [b] }, { sparse: false }), [`content "s": differs at byte ${2 * MiB}`]);
  assert.deepEqual(await diff(t, { entries: [b] }, { entries: [a] }, { sparse: false }), [`content "s": differs at byte ${2 * MiB}`]);
});

test('size: reported alone, contents not compared', async (t) => {
  assert.deepEqual(await diff(t, { entries: [file('f', 'abc')] }, { entries: [file('f', 'xbcd')] }), ['size "f": 3 != 4']);
});

test('mode: permission bits and setid/sticky bits', async (t) => {
  const a = { entries: [file('f', 'x', 0o644), file('g', 'x', 0o4755), { type: 'dir', path: 'd', mode: 0o1777 } as EntrySpec] };
  const b = { entries: [file('f', 'x', 0o600), file('g', 'x', 0o755), { type: 'dir', path: 'd', mode: 0o777 } as EntrySpec] };
  assert.deepEqual(await diff(t, a, b), ['mode "d": 01777 != 0777', 'mode "f": 0644 != 0600', 'mode "g": 04755 != 0755']);
});

test('owner: uid and gid; --no-owner skips them', async (t) => {
  if (!requireCapability(t, isRoot, 'root (chown)')) return;
  const a = { entries: [file('f', 'x')], meta: [{ path: 'f', uid: 1000, gid: 100 }] };
  const b = { entries: [file('f', 'x')], meta: [{ path: 'f', uid: 1000, gid: 0 }] };
  assert.deepEqual(await diff(t, a, b), ['owner "f": 1000:100 != 1000:0']);
  assert.deepEqual(await diff(t, a, b, { owner: false }), []);
});

test('mtime: off by 1 ns, on a file, a symlink and a directory; --no-times skips them', async (t) => {
  const entries: EntrySpec[] = [{ type: 'dir', path: 'd' }, file('d/f', 'x'), { type: 'symlink', path: 'l', target: 'd' }];
  const b = { entries, meta: ['d', 'd/f', 'l'].map((path) => ({ path, mtime: T + 1n })) };
  assert.deepEqual(await diff(t, { entries }, b), [
    `mtime "d": ${T} != ${T + 1n}`,
    `mtime "d/f": ${T} != ${T + 1n}`,
    `mtime "l": ${T} != ${T + 1n}`,
  ]);
  assert.deepEqual(await diff(t, { entries }, b, { times: false }), []);
});

test('xattr: a value differs, one is missing in B, one only in B; --no-xattrs skips them', async (t) => {
  const a = { entries: [file('f', 'x')], meta: [{ path: 'f', xattrs: { 'user.k': 'v1', 'user.gone': 'x' } }] };
  const b = { entries: [file('f', 'x')], meta: [{ path: 'f', xattrs: { 'user.k': 'v2', 'user.new': Buffer.alloc(100, 0xff) } }] };
  assert.deepEqual(await diff(t, a, b), [
    'xattr "f": "user.gone" missing in B',
    'xattr "f": "user.k" "v1" != "v2"',
    'xattr "f": "user.new" only in B',
  ]);
  assert.deepEqual(await diff(t, a, b, { xattrs: false }), []);
});

test('xattr: a POSIX ACL (system.posix_acl_access) missing in B', async (t) => {
  // Owner rw, user 1000 r, group r, mask r, other r: the mode stays 0644, only the ACL differs.
  const acl = Buffer.alloc(44);
  acl.writeUInt32LE(2, 0);
  [[0x01, 6, -1], [0x02, 4, 1000], [0x04, 4, -1], [0x10, 4, -1], [0x20, 4, -1]].forEach(([tag, perm, id], i) => {
    acl.writeUInt16LE(tag!, 4 + i * 8);
    acl.writeUInt16LE(perm!, 6 + i * 8);
    acl.writeInt32LE(id!, 8 + i * 8);
  });
  const a = { entries: [file('f', 'x')], meta: [{ path: 'f', xattrs: { 'system.posix_acl_access': acl } }] };
  assert.deepEqual(await diff(t, a, { entries: [file('f', 'x')] }), ['xattr "f": "system.posix_acl_access" missing in B']);
});

test('symlink target differs (as bytes)', async (t) => {
  const a = { entries: [{ type: 'symlink', path: 'l', target: 'x\udce9' } as EntrySpec] };
  const b = { entries: [{ type: 'symlink', path: 'l', target: 'x\udce8' } as EntrySpec] };
  assert.deepEqual(await diff(t, a, b), ['target "l": "x\\xe9" != "x\\xe8"']);
});

test('rdev of a character device', async (t) => {
  if (!requireCapability(t, isRoot, 'root (mknod)')) return;
  const dev = (rdev: number): Spec => ({ entries: [{ type: 'chardev', path: 'c', rdev }] });
  assert.deepEqual(await diff(t, dev(0x103), dev(0x105)), ['rdev "c": 1:3 != 1:5']);
});

test('type change: file in A, directory in B (its contents not listed)', async (t) => {
  const a = { entries: [file('t', 'x')] };
  const b = { entries: [{ type: 'dir', path: 't' } as EntrySpec, file('t/inner', 'y')] };
  assert.deepEqual(await diff(t, a, b), ['type "t": file != dir']);
});

test('missing and extra entries, with non-UTF-8 and newline names, in byte order', async (t) => {
  const a = { entries: [{ type: 'dir', path: 'gone' } as EntrySpec, file('gone/x', '1'), file('caf\udce9', 'x'), file('same', 's')] };
  const b = { entries: [file('a\nb', 'y'), file('same', 's'), file('z', 'z')] };
  assert.deepEqual(await diff(t, a, b), ['only in B "a\\nb"', 'missing in B "caf\\xe9"', 'missing in B "gone"', 'only in B "z"']);
});

test('names are walked in byte order, not string order: a lone 0x80 byte before "é" (0xc3 0xa9)', async (t) => {
  const a = { entries: [file('\udc80x', '1'), file('é', '2'), file('k', '3')] };
  const b = { entries: [file('k', '3')] };
  assert.deepEqual(await diff(t, a, b), ['missing in B "\\x80x"', 'missing in B "é"']);
  assert.deepEqual(await diff(t, b, a), ['only in B "\\x80x"', 'only in B "é"']);
});

test('differences come out in walk order although files are compared in parallel', async (t) => {
  const names = Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, '0')}`);
  const size = (i: number) => (i % 3 === 0 ? 2 * MiB + i : 100 + i);
  const a = { entries: names.map((n, i) => file(n, Buffer.alloc(size(i), i))) };
  const b = { entries: names.map((n, i) => file(n, Buffer.alloc(size(i), i % 5 === 0 ? i + 1 : i))) };
  const lines = await diff(t, a, b, { jobs: 8 });
  assert.deepEqual(lines, names.filter((_, i) => i % 5 === 0).map((n) => `content "${n}": differs at byte 0`));
});

test('maxDifferences (what --quiet uses) stops the walk at the first difference', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const names = Array.from({ length: 10 }, (_, i) => `f${i}`);
  makeTree(`${dir}/a`, names.map((n) => file(n, 'x', 0o644)), stamped({ entries: names.map((n) => file(n, 'x')) }));
  makeTree(`${dir}/b`, names.map((n) => file(n, 'x', 0o600)), stamped({ entries: names.map((n) => file(n, 'x')) }));
  const lines: string[] = [];
  const summary = await verifyTrees(`${dir}/a`, `${dir}/b`, { maxDifferences: 1 }, (d) => void lines.push(formatText(d)));
  assert.deepEqual(lines, ['mode "f0": 0644 != 0600']);
  assert.deepEqual(summary, { differences: 1, entries: 2, bytes: 0, stopped: true });
});
