// Hard-link grouping and sparseness: the differences no single lstat shows.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { makeTree, tempDir, type EntrySpec, type MetaSpec } from '../helpers/tree.js';
import { verifyTrees } from '../../src/verify/verify.js';
import { formatJson, formatText } from '../../src/verify/report.js';
import type { VerifyOptions } from '../../src/verify/difference.js';

const T = 1732500000123456789n;
const MiB = 1 << 20;

function stamped(entries: EntrySpec[]): MetaSpec[] {
  return [...entries.filter((e) => e.type !== 'link').map((e) => ({ path: e.path, mtime: T })), { path: '', mtime: T }];
}

async function diff(t: TestContext, a: EntrySpec[], b: EntrySpec[], options: VerifyOptions = {}, json = false): Promise<string[]> {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/a`, a, stamped(a));
  makeTree(`${dir}/b`, b, stamped(b));
  const lines: string[] = [];
  await verifyTrees(`${dir}/a`, `${dir}/b`, options, (d) => void lines.push(json ? formatJson(d) : formatText(d)));
  return lines;
}

const file = (path: string, content: string | Buffer, mode?: number): EntrySpec => ({ type: 'file', path, content, mode });
const link = (path: string, target: string): EntrySpec => ({ type: 'link', path, target });

test('links: same content, but separate inodes in B where A has one', async (t) => {
  const lines = await diff(t, [file('f', 'same'), link('g', 'f')], [file('f', 'same'), file('g', 'same')]);
  assert.deepEqual(lines, ['links "g": linked to "f" in A, not linked to an earlier name in B']);
});

test('links: linked in B only, and linked to different names', async (t) => {
  const a = [file('a', '1'), file('b', '1'), link('c', 'a')];
  const b = [file('a', '1'), file('b', '1'), link('c', 'b')];
  assert.deepEqual(await diff(t, a, b), ['links "c": linked to "a" in A, linked to "b" in B']);
  const lines = await diff(t, [file('f', 'x'), file('g', 'x')], [file('f', 'x'), link('g', 'f')]);
  assert.deepEqual(lines, ['links "g": not linked to an earlier name in A, linked to "f" in B']);
});

test('links: grouping alike is not a difference, even when the first name differs only by links outside', async (t) => {
  const a = [file('a', 'x'), link('b', 'a'), link('c', 'a'), file('d', 'y'), link('e', 'd')];
  assert.deepEqual(await diff(t, a, a), []);
});

test('links: a difference in a hard-linked file is reported once, at its first name', async (t) => {
  const lines = await diff(t, [file('f', 'x', 0o644), link('g', 'f')], [file('f', 'x', 0o600), link('g', 'f')]);
  assert.deepEqual(lines, ['mode "f": 0644 != 0600']);
});

test('links: a non-UTF-8 first name in JSON is base64', async (t) => {
  const lines = await diff(t, [file('a\udcff', 'x'), link('b', 'a\udcff')], [file('a\udcff', 'x'), file('b', 'x')], {}, true);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [{ kind: 'links', path: 'b', a: { base64: 'Yf8=' }, b: null }]);
});

test('sparse: the same bytes, sparse in A, dense in B; --no-sparse accepts them', async (t) => {
  const head = Buffer.alloc(4096, 'x');
  const dense = Buffer.alloc(MiB);
  head.copy(dense);
  const a: EntrySpec[] = [{ type: 'file', path: 's', extents: [{ offset: 0, data: head }], size: MiB }];
  const b = [file('s', dense)];
  assert.deepEqual(await diff(t, a, b), ['sparse "s": data [0,4096) != [0,1048576)']);
  assert.deepEqual(await diff(t, a, b, { sparse: false }), []);
});

test('sparse: holes in different places; an all-hole file has no data extents', async (t) => {
  const block = Buffer.alloc(4096, 7);
  const at = (offset: number): EntrySpec => ({ type: 'file', path: 's', extents: [{ offset, data: block }], size: 4 * MiB });
  const lines = await diff(t, [at(0), { type: 'file', path: 'z', size: MiB }], [at(MiB), file('z', Buffer.alloc(MiB))], {}, true);
  assert.deepEqual(lines.map((l) => JSON.parse(l)), [
    { kind: 'sparse', path: 's', a: [[0, 4096]], b: [[MiB, MiB + 4096]], truncated: false },
    { kind: 'content', path: 's', offset: 0 },
    { kind: 'sparse', path: 'z', a: [], b: [[0, MiB]], truncated: false },
  ]);
});

test('sparse: small files (compared inline) too: a hole-only file against written zeros', async (t) => {
  const a: EntrySpec[] = [{ type: 'file', path: 'h', size: 16384 }, { type: 'file', path: 'm', extents: [{ offset: 8192, data: Buffer.from('x') }], size: 16384 }];
  const b = [file('h', Buffer.alloc(16384)), { ...a[1]!, path: 'm' } as EntrySpec];
  assert.deepEqual(await diff(t, a, b), ['sparse "h": data none != [0,16384)']);
});
