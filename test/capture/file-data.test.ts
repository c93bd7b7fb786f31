// File content as write events: data extents only (holes stay holes), bounded chunks, truncate for
// a trailing hole, fresh buffers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { dataEvents, dataExtents } from '../../src/capture/file-data.js';
import type { EventInput, WriteEvent } from '../../src/stream/events.js';
import { makeTree, tempDir } from '../helpers/tree.js';
import { about, scan } from './helpers.js';

const MiB = 1024 * 1024;
const writes = (events: EventInput[]): Omit<WriteEvent, 'seq'>[] => events.filter((e): e is Omit<WriteEvent, 'seq'> => e.type === 'write');

/** The file's bytes rebuilt from its create/write/truncate events. */
function rebuild(events: EventInput[], path: string): Buffer {
  let buf = Buffer.alloc(0);
  for (const e of about(events, path)) {
    if (e.type === 'write') {
      const end = e.offset + e.data.length;
      if (end > buf.length) buf = Buffer.concat([buf, Buffer.alloc(end - buf.length)]);
      e.data.copy(buf, e.offset);
    } else if (e.type === 'truncate') {
      buf = e.size > buf.length ? Buffer.concat([buf, Buffer.alloc(e.size - buf.length)]) : buf.subarray(0, e.size);
    }
  }
  return buf;
}

test('a sparse file: writes cover its data extents only, a trailing hole becomes truncate', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  makeTree(root, [
    { type: 'file', path: 's', extents: [{ offset: 0, data: Buffer.from('head') }, { offset: 4 * MiB, data: Buffer.from('middle') }], size: 9 * MiB },
  ]);
  const blk = statSync(`${root}/s`).blksize;
  const { events } = scan(root);
  const w = writes(about(events, 's'));
  assert.deepEqual(w.map((e) => e.offset), [0, 4 * MiB]);
  for (const e of w) assert.ok(e.data.length <= blk, `write at ${e.offset} is ${e.data.length} bytes: a hole was read as data`);
  assert.equal(w[1]!.data.subarray(0, 6).toString(), 'middle');
  const tr = about(events, 's').filter((e) => e.type === 'truncate');
  assert.deepEqual(tr, [{ type: 'truncate', path: 's', size: 9 * MiB }]);
  assert.ok(rebuild(events, 's').equals(readFileSync(`${root}/s`)));
});

test('a file that is all hole: create and truncate, no write', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/t`, [{ type: 'file', path: 'h', size: 5 * MiB }]);
  const kinds = about(scan(`${dir}/t`).events, 'h').map((e) => e.type);
  assert.deepEqual(kinds.slice(0, 2), ['create', 'truncate']);
  assert.ok(!kinds.includes('write'));
});

test('data up to the end: no truncate; an empty file: neither write nor truncate', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/t`, [
    { type: 'file', path: 'full', content: Buffer.alloc(10_000, 7) },
    { type: 'file', path: 'tail', extents: [{ offset: 2 * MiB, data: Buffer.from('end') }] },
    { type: 'file', path: 'zero', content: '' },
  ]);
  const { events } = scan(`${dir}/t`);
  assert.ok(!about(events, 'full').some((e) => e.type === 'truncate'));
  assert.ok(!about(events, 'tail').some((e) => e.type === 'truncate'), 'the last write reaches the end');
  assert.deepEqual(writes(about(events, 'tail')).map((e) => e.offset), [2 * MiB]);
  assert.ok(rebuild(events, 'tail').equals(readFileSync(`${dir}/t/tail`)));
  assert.ok(!about(events, 'zero').some((e) => e.type === 'write' || e.type === 'truncate'));
});

test('chunks: no write carries more than chunkSize bytes; together they are the content', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const content = Buffer.alloc(100 * 1024);
  for (let i = 0; i < content.length; i++) content[i] = (i * 31) & 0xff;
  makeTree(`${dir}/t`, [{ type: 'file', path: 'f', content }]);
  const { events } = scan(`${dir}/t`, { chunkSize: 32 * 1024 });
  const w = writes(events);
  assert.deepEqual(w.map((e) => [e.offset, e.data.length]), [[0, 32768], [32768, 32768], [65536, 32768], [98304, 4096]]);
  assert.ok(rebuild(events, 'f').equals(content));
  const arrays = new Set(w.map((e) => e.data.buffer));
  assert.equal(arrays.size, w.length, 'each write has a buffer of its own');
});

test('dataExtents lists the extents of an open file', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/t`, [{ type: 'file', path: 'f', extents: [{ offset: MiB, data: Buffer.from('x') }, { offset: 2 * MiB, data: Buffer.from('y') }], size: 3 * MiB }]);
  const fd = openSync(`${dir}/t/f`, 'r');
  t.after(() => closeSync(fd));
  const ext = [...dataExtents(fd, 3 * MiB)];
  assert.deepEqual(ext.map((e) => e.start), [MiB, 2 * MiB]);
  for (const e of ext) assert.ok(e.end > e.start && e.end < e.start + MiB);
  assert.deepEqual([...dataExtents(fd, MiB)], [], 'nothing below the size asked for');
});

test('dataEvents reads up to the size it is given (a file that grew since its stat) and returns where it stopped', (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/t`, [{ type: 'file', path: 'f', content: Buffer.alloc(10_000, 1) }]);
  const fd = openSync(`${dir}/t/f`, 'r');
  t.after(() => closeSync(fd));
  const gen = dataEvents(fd, 'f', 6000, { chunkSize: 4096 });
  const out: EventInput[] = [];
  let r = gen.next();
  for (; !r.done; r = gen.next()) out.push(r.value);
  assert.deepEqual(writes(out).map((e) => [e.offset, e.data.length]), [[0, 4096], [4096, 1904]]);
  assert.equal(r.value, 6000);
});
