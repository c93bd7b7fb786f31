// Identical trees holding every kind of entry verify as identical; .rill at the top is ignored; files compare too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTree, tempDir, isRoot, requireCapability, type EntrySpec, type MetaSpec } from '../helpers/tree.js';
import { sys } from '../../src/sys/native.js';
import { verifyTrees } from '../../src/verify/verify.js';
import { formatText } from '../../src/verify/report.js';

const T = 1732500000123456789n;
const MiB = 1 << 20;

/** A POSIX access ACL (system.posix_acl_access value): owner rw, user 1000 r, group r, mask r, other r. */
function aclValue(): Buffer {
  const entries = [[0x01, 6, 0xffffffff], [0x02, 4, 1000], [0x04, 4, 0xffffffff], [0x10, 4, 0xffffffff], [0x20, 4, 0xffffffff]];
  const buf = Buffer.alloc(4 + entries.length * 8);
  buf.writeUInt32LE(2, 0);
  entries.forEach(([tag, perm, id], i) => {
    buf.writeUInt16LE(tag!, 4 + i * 8);
    buf.writeUInt16LE(perm!, 6 + i * 8);
    buf.writeUInt32LE(id!, 8 + i * 8);
  });
  return buf;
}

const pattern = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 7 + (i >> 12)) & 0xff));

const EVERY_KIND: EntrySpec[] = [
  { type: 'dir', path: 'd', mode: 0o755 },
  { type: 'dir', path: 'd/sub', mode: 0o2775 },
  { type: 'file', path: 'd/f', content: 'hello' },
  { type: 'link', path: 'd/f-link', target: 'd/f' },
  { type: 'file', path: 'empty', content: '' },
  { type: 'file', path: 'big', content: pattern(3 * MiB + 123) },
  { type: 'file', path: 'sparse', extents: [{ offset: 0, data: pattern(4096) }, { offset: 3 * MiB, data: pattern(100) }], size: 5 * MiB },
  { type: 'file', path: 'suid', content: 'x', mode: 0o4755 },
  { type: 'file', path: 'caf\udce9', content: 'latin-1 name' },
  { type: 'file', path: 'new\nline', content: 'newline in name' },
  { type: 'symlink', path: 'l', target: 'd/f' },
  { type: 'symlink', path: 'dangling\udcff', target: 'nowhere\udcfe' },
  { type: 'fifo', path: 'fifo', mode: 0o640 },
  { type: 'chardev', path: 'null', rdev: 0x103 },
  { type: 'dir', path: 'sticky', mode: 0o1777 },
  { type: 'link', path: 'z-link', target: 'd/f' },
];

const EXTRA_META: MetaSpec[] = [
  { path: 'd/f', uid: 1000, gid: 100, xattrs: { 'user.k': 'v', 'trusted.t': Buffer.from([0, 1, 2, 255]) } },
  { path: 'l', uid: 1000, gid: 1000 },
  { path: 'd', uid: 1234, gid: 4321, xattrs: { 'user.dir': 'x' } },
  { path: 'empty', xattrs: { 'system.posix_acl_access': aclValue() } },
  { path: 'd/sub', xattrs: { 'system.posix_acl_default': aclValue() } },
  { path: 'big', mtime: T + 1n, atime: T - 5n },
];

/** Every entry and the root stamped with a fixed ns mtime (the root last: creating entries changes it). */
function stamped(entries: EntrySpec[], extra: MetaSpec[] = []): MetaSpec[] {
  const each = entries.filter((e) => e.type !== 'link').map((e) => ({ path: e.path, mtime: T, atime: T }));
  return [...each, ...extra, { path: '', mtime: T, atime: T }];
}

function makeEveryKind(root: string, atime: bigint): void {
  makeTree(root, EVERY_KIND);
  sys.mknod(`${root}/blk`, 0o060000 | 0o660, 0x700n); // block device 7:0
  makeTree(root, [], stamped([...EVERY_KIND, { type: 'fifo', path: 'blk' }], EXTRA_META).map((m) => (m.mtime === undefined ? m : { ...m, atime })));
}

async function collect(a: string, b: string): Promise<{ lines: string[]; entries: number; bytes: number }> {
  const lines: string[] = [];
  const s = await verifyTrees(a, b, {}, (d) => void lines.push(formatText(d)));
  assert.equal(s.differences, lines.length);
  return { lines, entries: s.entries, bytes: s.bytes };
}

test('identical trees with every kind of entry: no difference, every entry counted, atimes ignored', async (t) => {
  if (!requireCapability(t, isRoot, 'root (device nodes, ownership, trusted.* xattrs)')) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeEveryKind(`${dir}/a`, T);
  makeEveryKind(`${dir}/b`, T + 1000n);
  const { lines, entries, bytes } = await collect(`${dir}/a`, `${dir}/b`);
  assert.deepEqual(lines, []);
  assert.equal(entries, 1 + EVERY_KIND.length + 1); // the root, the entries, blk
  // Content compared once per inode: d/f (5 bytes) once for its three names.
  assert.equal(bytes, 5 + 3 * MiB + 123 + 5 * MiB + 1 + 12 + 15);
});

test('every kind, atimes compared on request: each entry reports its atime', async (t) => {
  if (!requireCapability(t, isRoot, 'root (device nodes, ownership, trusted.* xattrs)')) return;
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeEveryKind(`${dir}/a`, T);
  makeEveryKind(`${dir}/b`, T + 1000n);
  const lines: string[] = [];
  await verifyTrees(`${dir}/a`, `${dir}/b`, { atime: true }, (d) => void lines.push(`${d.kind} ${d.path}`));
  // lstat comes before any read, so every name differs, except the later names of d/f (compared once).
  const names = ['', ...EVERY_KIND.map((e) => e.path), 'blk'].filter((p) => p !== 'd/f-link' && p !== 'z-link');
  assert.deepEqual(lines.sort(), names.map((p) => `atime ${p}`).sort());
});

test('a top-level .rill is ignored on both sides, a deeper one is not', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const base: EntrySpec[] = [{ type: 'dir', path: 'd' }, { type: 'file', path: 'd/f', content: 'x' }];
  const withState: EntrySpec[] = [...base, { type: 'dir', path: '.rill' }, { type: 'file', path: '.rill/state', content: 'seq 9' }];
  makeTree(`${dir}/a`, [...base, { type: 'file', path: '.rill', content: 'not even a dir' }], stamped(base));
  makeTree(`${dir}/b`, withState, stamped(withState));
  assert.deepEqual((await collect(`${dir}/a`, `${dir}/b`)).lines, []);
  makeTree(`${dir}/b`, [{ type: 'dir', path: 'd/.rill' }], stamped(base));
  assert.deepEqual((await collect(`${dir}/a`, `${dir}/b`)).lines, ['only in B "d/.rill"']);
});

test('two regular files compare as one entry', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const files: EntrySpec[] = [
    { type: 'file', path: 'x', content: 'same bytes' },
    { type: 'file', path: 'y', content: 'same bytes' },
    { type: 'file', path: 'z', content: 'same bytez' },
  ];
  makeTree(dir, files, stamped(files));
  assert.deepEqual(await collect(`${dir}/x`, `${dir}/y`), { lines: [], entries: 1, bytes: 10 });
  assert.deepEqual((await collect(`${dir}/x`, `${dir}/z`)).lines, ['content ".": differs at byte 9']);
  assert.deepEqual((await collect(`${dir}/x`, dir)).lines, ['type ".": file != dir']);
});
