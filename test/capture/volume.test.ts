// Volume capture in process: the events of a full and of a change-set scan of an image file, the
// state's hash records across record boundaries (bounded memory), intermediate commits, a volume
// that changes while it is read, and the block-delta options the volume relies on (hash lookups,
// hashes handed out one by one, zero blocks as holes) agreeing with the plain Buffer form.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, closeSync, existsSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { tempDir } from '../helpers/tree.js';
import { blockEvents, HASH_BYTES, loadHasher, type HashLookup } from '../../src/capture/blocks.js';
import { openScanRoot } from '../../src/capture/root.js';
import { planFromState } from '../../src/capture/state-plan.js';
import { StateReader } from '../../src/capture/state-file.js';
import { HASHES_PER_RECORD, volumeCapture, type VolumeOptions } from '../../src/capture/volume.js';
import type { EventInput } from '../../src/stream/events.js';
import { sys } from '../../src/sys/native.js';

await loadHasher();

function image(path: string, size: number, extents: [number, Buffer][]): void {
  const fd = openSync(path, 'w');
  try {
    ftruncateSync(fd, size);
    for (const [at, data] of extents) writeSync(fd, data, 0, data.length, at);
  } finally {
    closeSync(fd);
  }
}

function writeAt(path: string, at: number, data: Buffer): void {
  const fd = openSync(path, 'r+');
  try {
    writeSync(fd, data, 0, data.length, at);
  } finally {
    closeSync(fd);
  }
}

const fill = (n: number, byte: number): Buffer => Buffer.alloc(n, byte);

interface Run {
  events: EventInput[];
  lastSeq: number;
}

/** One capture run with --state: events numbered from the plan's first seq; the state committed. */
function capture(path: string, state: string, extra: Partial<VolumeOptions> & { blockSize?: number; full?: boolean } = {}): Run {
  const root = openScanRoot(path);
  const plan = planFromState(
    { file: state, kind: 'volume', root: { path: root.abs, dev: Number(root.st.dev), ino: Number(root.st.ino) }, full: extra.full === true, blockSize: extra.blockSize },
    4096,
  );
  const source = volumeCapture(root, { chunkSize: 256 * 1024, blockSize: plan.blockSize, plan, stateFile: state, ...extra });
  const events = [...source.events];
  const lastSeq = plan.firstSeq + events.length - 1;
  source.commit(lastSeq);
  return { events, lastSeq };
}

const data = (events: EventInput[]): { offset: number; length: number }[] =>
  events.flatMap((e) => (e.type === 'write' ? [{ offset: e.offset, length: e.data.length }] : []));
const punches = (events: EventInput[]): { offset: number; length: number }[] =>
  events.flatMap((e) => (e.type === 'punch' ? [{ offset: e.offset, length: e.length }] : []));

test('a full volume stream: note, truncate to the size, every data block written, every hole punched, a commit', () => {
  const { dir, cleanup } = tempDir('rill-vol-');
  try {
    const img = `${dir}/vm.img`;
    image(img, 1 << 20, [
      [8192, fill(5000, 1)],
      [600_000, fill(4096, 2)],
    ]);
    const { events } = capture(img, `${dir}/s`);
    assert.deepEqual(events.map((e) => e.type), ['note', 'truncate', 'punch', 'write', 'punch', 'write', 'punch', 'commit']);
    assert.deepEqual(events[1], { type: 'truncate', path: '', size: 1 << 20 });
    // 4 KiB blocks: 8192..13192 spans blocks 2-3; 600000..604096 spans blocks 146-147.
    assert.deepEqual(data(events), [
      { offset: 8192, length: 8192 },
      { offset: 598016, length: 8192 },
    ]);
    assert.deepEqual(punches(events), [
      { offset: 0, length: 8192 },
      { offset: 16384, length: 598016 - 16384 },
      { offset: 606208, length: (1 << 20) - 606208 },
    ]);
    assert.ok(events.every((e) => !('path' in e) || e.path === ''));
  } finally {
    cleanup();
  }
});

test('a change set carries only changed blocks; hashes span several state records, read back one record at a time', () => {
  const { dir, cleanup } = tempDir('rill-vol-');
  try {
    const img = `${dir}/vm.img`;
    const bs = 512;
    const size = 3 * HASHES_PER_RECORD * bs + 12_345; // four hash records
    image(img, size, [[100, fill(700, 1)]]);
    const state = `${dir}/s`;
    const first = capture(img, state, { blockSize: bs });
    const reader = StateReader.open(state)!;
    const recs = [...reader.records()].map(([, r]) => r as { size?: number; first?: number; hashes?: Uint8Array });
    reader.close();
    assert.deepEqual(recs[0], { size, blocks: Math.ceil(size / bs) });
    assert.deepEqual(recs.slice(1).map((r) => [r.first, r.hashes!.length / HASH_BYTES]), [
      [0, HASHES_PER_RECORD],
      [HASHES_PER_RECORD, HASHES_PER_RECORD],
      [2 * HASHES_PER_RECORD, HASHES_PER_RECORD],
      [3 * HASHES_PER_RECORD, Math.ceil(size / bs) - 3 * HASHES_PER_RECORD],
    ]);
    // One block changed in the first, third and last record; one old data block became a hole.
    const at = [5 * bs, (2 * HASHES_PER_RECORD + 7) * bs, size - 10];
    for (const off of at) writeAt(img, off, fill(1, 9));
    const fd = openSync(img, 'r+');
    sys.punchHole(fd, 512, 512);
    closeSync(fd);
    const second = capture(img, state);
    assert.deepEqual(second.events.map((e) => e.type), ['note', 'punch', 'write', 'write', 'write', 'commit'], 'no truncate: same size');
    assert.deepEqual(punches(second.events), [{ offset: 512, length: 512 }]);
    assert.deepEqual(data(second.events), [
      { offset: 5 * bs, length: bs },
      { offset: (2 * HASHES_PER_RECORD + 7) * bs, length: bs },
      { offset: Math.floor((size - 10) / bs) * bs, length: size - Math.floor((size - 10) / bs) * bs },
    ]);
    assert.equal(second.lastSeq, first.lastSeq + second.events.length);
    const third = capture(img, state);
    assert.deepEqual(third.events.map((e) => e.type), ['note', 'commit'], 'nothing changed');
  } finally {
    cleanup();
  }
});

test('growth and shrinking: a truncate, the changed last block, and the new region written or punched', () => {
  const { dir, cleanup } = tempDir('rill-vol-');
  try {
    const img = `${dir}/vm.img`;
    const state = `${dir}/s`;
    image(img, 10_000, [[0, fill(10_000, 3)]]);
    capture(img, state);
    appendFileSync(img, fill(100, 4)); // 10,100 bytes: block 2 grows
    const fd = openSync(img, 'r+');
    ftruncateSync(fd, 40_000); // a hole after it
    writeSync(fd, fill(10, 5), 0, 10, 30_000);
    closeSync(fd);
    const grow = capture(img, state);
    assert.deepEqual(grow.events.filter((e) => e.type === 'truncate'), [{ type: 'truncate', path: '', size: 40_000 }]);
    assert.equal(grow.events.findIndex((e) => e.type === 'truncate'), 1, 'the size comes before the blocks');
    assert.deepEqual(data(grow.events), [
      { offset: 8192, length: 4096 },
      { offset: 28672, length: 4096 },
    ]);
    // Blocks past the old size that are holes are punched: a block device does not read zeros there.
    assert.deepEqual(punches(grow.events), [
      { offset: 12288, length: 28672 - 12288 },
      { offset: 32768, length: 40_000 - 32768 },
    ]);
    const fd2 = openSync(img, 'r+');
    ftruncateSync(fd2, 9000);
    closeSync(fd2);
    const shrink = capture(img, state);
    assert.deepEqual(shrink.events.filter((e) => e.type === 'truncate'), [{ type: 'truncate', path: '', size: 9000 }]);
    assert.deepEqual(data(shrink.events), [{ offset: 8192, length: 808 }], 'the last block, shorter now');
  } finally {
    cleanup();
  }
});

test('commit events every commitEvery bytes of the volume, only where events came since the last one', () => {
  const { dir, cleanup } = tempDir('rill-vol-');
  try {
    const img = `${dir}/vm.img`;
    image(img, 1 << 20, [
      [0, fill(4096, 1)],
      [100_000, fill(4096, 2)],
      [110_000, fill(4096, 2)],
      [900_000, fill(4096, 3)],
    ]);
    const { events } = capture(img, `${dir}/s`, { commitEvery: 65536, full: true });
    const commits = events.flatMap((e, i) => (e.type === 'commit' ? [i] : []));
    assert.ok(commits.length >= 4, `several commits (${commits.length})`);
    // No commit follows another directly, and each data event lies below the next commit boundary.
    for (let i = 1; i < commits.length; i++) assert.notEqual(commits[i], commits[i - 1]! + 1);
    assert.equal(events.at(-1)!.type, 'commit');
  } finally {
    cleanup();
  }
});

test('a volume that changes size while it is read gets a note "changed" and a problem; without --state no state is written', () => {
  const { dir, cleanup } = tempDir('rill-vol-');
  try {
    const img = `${dir}/vm.img`;
    image(img, 1 << 20, [[0, fill(1 << 20, 7)]]);
    const problems: string[] = [];
    const source = volumeCapture(openScanRoot(img), { chunkSize: 65536, blockSize: 65536, onProblem: (p) => problems.push(`${p.code}: ${p.message}`) });
    const it = source.events[Symbol.iterator]();
    const seen: EventInput[] = [it.next().value as EventInput, it.next().value as EventInput];
    appendFileSync(img, fill(4096, 8));
    for (let r = it.next(); !r.done; r = it.next()) seen.push(r.value);
    source.commit(seen.length);
    const note = seen.find((e) => e.type === 'note' && e.code === 'changed');
    assert.ok(note, 'a changed note');
    assert.match(problems.join('\n'), /changed: volume changed while it was read: its size went from 1048576 to 1052672 bytes/);
    assert.equal(existsSync(`${dir}/s`), false);
  } finally {
    cleanup();
  }
});

test('blockEvents: a hash lookup and onHash give the same events and hashes as the Buffer form; zeroAsHole punches zero blocks', () => {
  const { dir, cleanup } = tempDir('rill-vol-');
  try {
    const img = `${dir}/f`;
    const bs = 4096;
    image(img, 20 * bs + 100, [
      [0, fill(3 * bs, 1)],
      [5 * bs, fill(2 * bs, 0)], // allocated zeros
      [9 * bs, fill(4 * bs, 2)],
      [20 * bs, fill(100, 3)],
    ]);
    const fd = openSync(img, 'r');
    try {
      const plan = { blockSize: bs, chunkSize: 8 * bs };
      const size = 20 * bs + 100;
      const run = (gen: Generator<EventInput, Buffer>): { events: EventInput[]; hashes: Buffer } => {
        const events: EventInput[] = [];
        for (let r = gen.next(); ; r = gen.next()) {
          if (r.done) return { events, hashes: r.value };
          events.push(r.value);
        }
      };
      const base = run(blockEvents(fd, '', size, plan));
      // Old content: the same except block 10 and the last block differ.
      const old = Buffer.from(base.hashes);
      old.writeBigUInt64LE(1n, 10 * HASH_BYTES);
      old.writeBigUInt64LE(2n, 20 * HASH_BYTES);
      const viaBuffer = run(blockEvents(fd, '', size, plan, { size, hashes: old }));
      const seen: number[] = [];
      const lookup: HashLookup = { blocks: 21, at: (b) => (seen.push(b), old.readBigUInt64LE(b * HASH_BYTES)) };
      const got = Buffer.alloc(21 * HASH_BYTES);
      const viaLookup = run(blockEvents(fd, '', size, { ...plan, onHash: (b, h) => got.writeBigUInt64LE(h, b * HASH_BYTES) }, { size, hashes: lookup }));
      assert.deepEqual(viaLookup.events, viaBuffer.events);
      assert.deepEqual(data(viaBuffer.events), [
        { offset: 10 * bs, length: bs },
        { offset: 20 * bs, length: 100 },
      ]);
      assert.equal(viaLookup.hashes.length, 0, 'hashes went to onHash');
      assert.deepEqual(got, base.hashes);
      assert.deepEqual(seen, [...seen].sort((a, b) => a - b), 'lookups in block order');
      // Unknown old content: zero blocks become punches with zeroAsHole, writes without it.
      const unknown: HashLookup = { blocks: 21, at: () => undefined };
      const plain = run(blockEvents(fd, '', size, plan, { size, hashes: unknown }));
      const zeroHole = run(blockEvents(fd, '', size, { ...plan, zeroAsHole: true }, { size, hashes: unknown }));
      assert.ok(data(plain.events).some((w) => w.offset <= 5 * bs && w.offset + w.length >= 7 * bs), 'allocated zeros written without zeroAsHole');
      assert.deepEqual(data(zeroHole.events), [
        { offset: 0, length: 3 * bs },
        { offset: 9 * bs, length: 4 * bs },
        { offset: 20 * bs, length: 100 },
      ]);
      assert.deepEqual(punches(zeroHole.events), [
        { offset: 3 * bs, length: 6 * bs },
        { offset: 13 * bs, length: 7 * bs },
      ]);
      const at = (hashes: Buffer, b: number): bigint => hashes.readBigUInt64LE(b * HASH_BYTES);
      assert.equal(at(zeroHole.hashes, 5), at(zeroHole.hashes, 3), 'with zeroAsHole, allocated zeros hash as a hole');
      assert.notEqual(at(plain.hashes, 5), at(plain.hashes, 3), 'without it, a hole and written zeros differ');
      assert.deepEqual(at(plain.hashes, 0), at(zeroHole.hashes, 0), 'a dense data block hashes the same either way');
    } finally {
      closeSync(fd);
    }
  } finally {
    cleanup();
  }
});
