// One hand-made case per coalescing rule of sort-merge (issue #5): the output is what the rule says
// (counted: one write instead of 1,000, nothing for a file made and removed, ...) and replays to the
// tree the input replays to, from the same starting tree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Event, EventInput, StreamRecord } from '../../src/stream/events.js';
import { isRoot, tempDir, type EntrySpec } from '../helpers/tree.js';
import { assertEquivalent, merge, records, show, writeInputs } from './harness.js';

/** Numbers events from seq 1; every case ends with a utimes of each entry it leaves, so times compare. */
function seqd(events: EventInput[]): Event[] {
  return events.map((e, i) => ({ ...e, seq: i + 1 }) as Event);
}

const T = 1_700_000_000_000_000_000n;
/** utimes of the root and of paths (replay's own directory changes the root's mtime). */
const times = (...paths: string[]): EventInput[] => ['', ...paths.filter((p) => p !== '')].map((path) => ({ type: 'utimes', path, atime: T, mtime: T }));

/** Merges the events (one input) over `entries`; checks equivalence; returns the output's events. */
async function golden(entries: EntrySpec[], input: EventInput[]): Promise<Event[]> {
  const events = seqd(input);
  const { dir, cleanup } = tempDir('rill-golden-');
  try {
    const out = await merge(dir, await writeInputs(dir, [{ events }]));
    const meta = entries.filter((e) => e.type !== 'link').map((e) => ({ path: e.path, mtime: T, atime: T }));
    await assertEquivalent(dir, { entries, meta }, records(events), out, () => `input:\n${show(records(events))}\noutput:\n${show(out)}`);
    // The output ends on the input's last seq: a commit carries it when coalescing took the event that had it.
    const last = out.at(-2);
    assert.ok(last?.type !== 'header' && last?.type !== 'end' && last?.seq === events.at(-1)!.seq, 'the output ends on the input\'s last seq');
    return out.filter((r): r is Event => r.type !== 'header' && r.type !== 'end' && r.type !== 'commit');
  } finally {
    cleanup();
  }
}

const of = (out: Event[], type: Event['type']): Event[] => out.filter((e) => e.type === type);
const writeBytes = (out: StreamRecord[]): number => out.reduce((n, e) => n + (e.type === 'write' ? e.data.length : 0), 0);

test('1,000 rewrites of the same block become one write of its last bytes', { skip: !isRoot && 'needs root' }, async () => {
  const input: EventInput[] = [];
  for (let i = 0; i < 1000; i++) input.push({ type: 'write', path: 'db', offset: 8192, data: Buffer.alloc(4096, i % 251) });
  const out = await golden([{ type: 'file', path: 'db', content: Buffer.alloc(65536, 7) }], [...input, ...times('db')]);
  const writes = of(out, 'write');
  assert.equal(writes.length, 1, show(out));
  assert.equal((writes[0] as Extract<Event, { type: 'write' }>).offset, 8192);
  assert.ok((writes[0] as Extract<Event, { type: 'write' }>).data.equals(Buffer.alloc(4096, 999 % 251)));
});

test('writes are sorted by offset; overlapping and adjacent ones merge, the last writer winning', { skip: !isRoot && 'needs root' }, async () => {
  // Backwards, adjacent 1 KiB writes over [0, 64 KiB), then a write across the middle of them.
  const input: EventInput[] = [];
  for (let off = 63 * 1024; off >= 0; off -= 1024) input.push({ type: 'write', path: 'f', offset: off, data: Buffer.alloc(1024, off / 1024) });
  input.push({ type: 'write', path: 'f', offset: 10_000, data: Buffer.alloc(5000, 0xee) });
  const out = await golden([{ type: 'file', path: 'f', content: 'old' }], [...input, ...times('f')]);
  const writes = of(out, 'write') as Extract<Event, { type: 'write' }>[];
  assert.equal(writes.length, 1, show(out));
  assert.equal(writes[0]!.offset, 0);
  assert.equal(writes[0]!.data.length, 65536);
  assert.equal(writes[0]!.data[10_000], 0xee);
  assert.equal(writes[0]!.data[15_000], 14);
});

test('bytes beyond a later truncate are cut (all but the 1 MiB block the new size falls in)', { skip: !isRoot && 'needs root' }, async () => {
  const input: EventInput[] = [];
  for (let i = 0; i < 32; i++) input.push({ type: 'write', path: 'log', offset: i << 20, data: Buffer.alloc(1 << 20, i + 1) });
  input.push({ type: 'truncate', path: 'log', size: 5000 });
  const out = await golden([{ type: 'file', path: 'log' }], [...input, ...times('log')]);
  assert.equal(writeBytes(out), 1 << 20, show(out));
  assert.equal(of(out, 'truncate').length, 1);
});

test('a file made, written and removed in the window leaves nothing; one with another name left keeps its data there', { skip: !isRoot && 'needs root' }, async () => {
  const gone: EventInput[] = [{ type: 'create', path: 'tmp', mode: 0o644 }];
  for (let i = 0; i < 100; i++) gone.push({ type: 'write', path: 'tmp', offset: i * 4096, data: Buffer.alloc(4096, i) });
  gone.push({ type: 'chmod', path: 'tmp', mode: 0o600 }, { type: 'unlink', path: 'tmp' });
  const out = await golden([], [...gone, ...times('')]);
  // The name was never seen before the create, which replaced whatever was there: that unlink stays.
  assert.deepEqual(out.map((e) => e.type), ['unlink', 'utimes'], show(out));

  const linked: EventInput[] = [
    { type: 'create', path: 'a', mode: 0o644 },
    { type: 'link', path: 'b', target: 'a' },
    { type: 'write', path: 'a', offset: 0, data: Buffer.alloc(10_000, 1) },
    { type: 'unlink', path: 'a' },
  ];
  const kept = await golden([], [...linked, ...times('', 'b')]);
  assert.equal(writeBytes(kept), 10_000, show(kept));
  assert.deepEqual(of(kept, 'create').map((e) => (e as { path: string }).path), ['b'], 'made at the name that is left');
  assert.equal(of(kept, 'link').length, 0, show(kept));
});

test('writes to an existing file that is then removed are dropped only when the file has no other name', { skip: !isRoot && 'needs root' }, async () => {
  // 'old' existed before the window: it may have names the window never saw, so its data is kept.
  const entries: EntrySpec[] = [{ type: 'file', path: 'old', content: 'x' }, { type: 'link', path: 'other', target: 'old' }];
  const input: EventInput[] = [{ type: 'write', path: 'old', offset: 0, data: Buffer.alloc(3000, 9) }, { type: 'unlink', path: 'old' }];
  const out = await golden(entries, [...input, ...times('', 'other')]);
  assert.equal(writeBytes(out), 3000, 'the other name sees the write');
});

test('create → write → rename → rename collapses to one create at the final name', { skip: !isRoot && 'needs root' }, async () => {
  const out = await golden([{ type: 'dir', path: 'd' }], [
    { type: 'create', path: 'x.tmp', mode: 0o600 },
    { type: 'write', path: 'x.tmp', offset: 0, data: Buffer.from('hello') },
    { type: 'rename', path: 'x.tmp', to: 'd/y' },
    { type: 'rename', path: 'd/y', to: 'z' },
    ...times('', 'd', 'z'),
  ]);
  assert.equal(of(out, 'rename').length, 0, show(out));
  assert.deepEqual(of(out, 'create').map((e) => (e as { path: string }).path), ['z']);
});

test('repeated chmod, chown, utimes and xattr changes collapse to the last of each', { skip: !isRoot && 'needs root' }, async () => {
  const input: EventInput[] = [];
  for (let i = 0; i < 50; i++) {
    input.push({ type: 'chmod', path: 'f', mode: 0o600 + (i % 8) });
    input.push({ type: 'chown', path: 'f', uid: 1000 + i, gid: 100 + i });
    input.push({ type: 'setxattr', path: 'f', name: 'user.v', value: Buffer.from(`v${i}`) });
    input.push({ type: 'setxattr', path: 'f', name: 'user.gone', value: Buffer.from(`g${i}`) });
    input.push({ type: 'utimes', path: 'f', atime: BigInt(i), mtime: BigInt(i) });
  }
  input.push({ type: 'removexattr', path: 'f', name: 'user.gone' });
  const out = await golden([{ type: 'file', path: 'f', content: 'data' }], [...input, ...times('f')]);
  const count = (t: Event['type']): number => of(out, t).filter((e) => (e as { path: string }).path === 'f').length;
  assert.deepEqual([count('chmod'), count('chown'), count('setxattr'), count('removexattr'), count('utimes')], [1, 1, 1, 1, 1], show(out));
  assert.equal((of(out, 'chown')[0] as { uid: number }).uid, 1049);
});

test('a rename chain a → b → c of an existing entry becomes one rename a → c', { skip: !isRoot && 'needs root' }, async () => {
  // A file through names known to be free (a name never seen may be another name of the same file,
  // where rename does nothing); a directory through names never seen.
  const entries: EntrySpec[] = [{ type: 'file', path: 'a', content: 'A' }, { type: 'file', path: 'b', content: 'B' }, { type: 'file', path: 'c', content: 'C' }, { type: 'dir', path: 'dir1' }, { type: 'file', path: 'dir1/in', content: 'i' }];
  const out = await golden(entries, [
    { type: 'unlink', path: 'b' },
    { type: 'unlink', path: 'c' },
    { type: 'write', path: 'dir1/in', offset: 0, data: Buffer.from('I') }, // dir1 is known to be a directory
    { type: 'rename', path: 'a', to: 'b' },
    { type: 'rename', path: 'b', to: 'c' },
    { type: 'rename', path: 'dir1', to: 'dir2' },
    { type: 'rename', path: 'dir2', to: 'dir3' },
    { type: 'rename', path: 'dir3', to: 'dir4' },
    ...times('', 'c', 'dir4', 'dir4/in'),
  ]);
  const renames = of(out, 'rename').map((e) => `${(e as { path: string }).path}->${(e as { to: string }).to}`);
  assert.deepEqual(renames, ['a->c', 'dir1->dir4'], show(out));
});

test('a rename chain that ends on the directory it started in is not joined (a → b emptied it)', { skip: !isRoot && 'needs root' }, async () => {
  const entries: EntrySpec[] = [{ type: 'dir', path: 'p' }, { type: 'dir', path: 'p/d' }, { type: 'file', path: 'p/d/f', content: 'x' }];
  const out = await golden(entries, [
    { type: 'write', path: 'p/d/f', offset: 0, data: Buffer.from('y') }, // p/d is known to be a directory
    { type: 'rename', path: 'p/d', to: 'q' },
    { type: 'rename', path: 'q', to: 'p' },
    ...times('', 'p', 'p/f'),
  ]);
  const renames = of(out, 'rename').map((e) => `${(e as { path: string }).path}->${(e as { to: string }).to}`);
  assert.deepEqual(renames, ['p/d->q', 'q->p'], show(out));
});

test('a directory made and removed in the window (with what was made in it) leaves nothing', { skip: !isRoot && 'needs root' }, async () => {
  // `build` existed, empty: once removed, the name is known free (a name never seen may hold a
  // directory that mkdir would keep, with what is in it, so a mkdir there is emitted as it is).
  const out = await golden([{ type: 'dir', path: 'build' }], [
    { type: 'rmdir', path: 'build' },
    { type: 'mkdir', path: 'build', mode: 0o755 },
    { type: 'mkdir', path: 'build/obj', mode: 0o755 },
    { type: 'create', path: 'build/obj/a.o', mode: 0o644 },
    { type: 'write', path: 'build/obj/a.o', offset: 0, data: Buffer.alloc(50_000, 3) },
    { type: 'symlink', path: 'build/latest', target: 'obj/a.o' },
    { type: 'unlink', path: 'build/latest' },
    { type: 'unlink', path: 'build/obj/a.o' },
    { type: 'rmdir', path: 'build/obj' },
    { type: 'rmdir', path: 'build' },
    ...times(''),
  ]);
  assert.deepEqual(out.map((e) => e.type), ['rmdir', 'utimes'], show(out));
});

test('files are followed by identity: writes before and after renames of an existing file coalesce into one', { skip: !isRoot && 'needs root' }, async () => {
  const out = await golden([{ type: 'file', path: 'p', content: Buffer.alloc(8192, 1) }, { type: 'dir', path: 'd' }], [
    { type: 'write', path: 'p', offset: 0, data: Buffer.alloc(4096, 2) },
    { type: 'rename', path: 'p', to: 'd/q' },
    { type: 'write', path: 'd/q', offset: 0, data: Buffer.alloc(4096, 3) },
    { type: 'rename', path: 'd/q', to: 'r' },
    { type: 'write', path: 'r', offset: 4096, data: Buffer.alloc(4096, 4) },
    ...times('', 'd', 'r'),
  ]);
  assert.equal(of(out, 'write').length, 1, show(out));
  assert.equal(writeBytes(out), 8192);
});

test('bookmarks are barriers: nothing coalesces across one, and the tree at each is the input\'s', { skip: !isRoot && 'needs root' }, async () => {
  const input: EventInput[] = [];
  for (let b = 0; b < 3; b++) {
    for (let i = 0; i < 10; i++) input.push({ type: 'write', path: 'f', offset: 0, data: Buffer.alloc(100, b * 10 + i) });
    input.push(...times('', 'f'), { type: 'bookmark', name: `b${b}`, wall: T, consistent: true });
  }
  const out = await golden([{ type: 'file', path: 'f' }], input);
  assert.deepEqual(out.filter((e) => e.type === 'write' || e.type === 'bookmark').map((e) => e.type), ['write', 'bookmark', 'write', 'bookmark', 'write', 'bookmark']);
});
