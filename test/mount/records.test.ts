// The native record format (native/fuse/rillfs.h) decoded from bytes cut anywhere, as a pipe may
// deliver them; and records turned into stream events. No FUSE needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordArena, RecordDecoder, REC, FIXED, type NativeRecord } from '../../src/capture/mount/records.js';
import { ArenaPool, arenaPiecesWritten } from '../../src/capture/mount/arena.js';
import { toEvent } from '../../src/capture/mount/events.js';

/** Encodes one record as the native layer does. */
function record(op: number, a: bigint, b: bigint, strs: Buffer[], payload = Buffer.alloc(0), flags = 0): Buffer {
  const len = FIXED + strs.reduce((n, s) => n + 4 + s.length, 0) + payload.length;
  const fixed = Buffer.alloc(FIXED);
  fixed.writeUInt32LE(len, 0);
  fixed[4] = op;
  fixed[5] = strs.length;
  fixed.writeUInt16LE(flags, 6);
  fixed.writeBigUInt64LE(1_700_000_000_000_000_000n, 8);
  fixed.writeBigUInt64LE(a, 16);
  fixed.writeBigUInt64LE(b, 24);
  const parts: Buffer[] = [fixed];
  for (const s of strs) {
    const n = Buffer.alloc(4);
    n.writeUInt32LE(s.length);
    parts.push(n, s);
  }
  parts.push(payload);
  return Buffer.concat(parts);
}

const sample = (): Buffer[] => [
  record(REC.create, 0o644n, 0n, [Buffer.from('d/f')]),
  record(REC.write, 5n, 0n, [Buffer.from('d/f')], Buffer.alloc(300_000, 7)),
  record(REC.rename, 0n, 0n, [Buffer.from('d/f'), Buffer.from([0x67, 0xff])], Buffer.alloc(0), 1),
  record(REC.utimes, BigInt.asUintN(64, -5n), 10n, [Buffer.from('')]),
  record(REC.commit, 0n, 0n, []),
];

test('records cut at any boundary decode to the same records', () => {
  const bytes = Buffer.concat(sample());
  for (const piece of [1, 3, 39, 40, 41, 4096, 65536, bytes.length]) {
    const d = new RecordDecoder();
    const got: NativeRecord[] = [];
    for (let at = 0; at < bytes.length; at += piece) got.push(...d.push(bytes.subarray(at, at + piece)));
    assert.equal(d.leftover, 0, `piece ${piece}`);
    assert.deepEqual(got.map((r) => r.op), [REC.create, REC.write, REC.rename, REC.utimes, REC.commit], `piece ${piece}`);
    assert.equal(got[1]!.payload.length, 300_000);
    assert.equal(got[1]!.a, 5n);
  }
});

test('a torn record is left over, and a length below the fixed part is an error', () => {
  const d = new RecordDecoder();
  const one = record(REC.unlink, 0n, 0n, [Buffer.from('x')]);
  assert.deepEqual(d.push(one.subarray(0, one.length - 1)), []);
  assert.equal(d.leftover, one.length - 1);
  const bad = Buffer.alloc(8);
  bad.writeUInt32LE(12, 0);
  assert.throws(() => new RecordDecoder().push(bad), /fewer than its 40-byte fixed part/);
});

test('records become stream events: raw names survive, flags and signed times are kept', () => {
  const d = new RecordDecoder();
  const [create, write, rename, utimes, commit] = d.push(Buffer.concat(sample()));
  assert.deepEqual(toEvent(create!), { type: 'create', path: 'd/f', mode: 0o644, time: 1_700_000_000_000_000_000n });
  const w = toEvent(write!) as { type: string; offset: number; data: Buffer };
  assert.deepEqual([w.type, w.offset, w.data.length], ['write', 5, 300_000]);
  const r = toEvent(rename!) as { to: string; noreplace?: boolean };
  assert.equal(r.to, 'g\udcff', 'a non-UTF-8 byte becomes a lone surrogate');
  assert.equal(r.noreplace, true);
  const u = toEvent(utimes!) as { path: string; atime: bigint; mtime: bigint };
  assert.deepEqual([u.path, u.atime, u.mtime], ['', -5n, 10n]);
  assert.equal(toEvent(commit!)!.type, 'commit');
  assert.equal(toEvent({ ...commit!, op: REC.mark }), undefined, 'control records are not events');
});

test('records read into arenas, cut at any read size, are whole and in order; a torn record is left over', () => {
  const bytes = Buffer.concat([...sample(), ...sample(), ...sample()]);
  for (const piece of [1, 3, 39, 41, 4096, 65536, 1 << 20, bytes.length]) {
    const a = new RecordArena(new ArenaPool(256 * 1024)); // smaller than a record: carried into a larger arena
    const got: NativeRecord[] = [];
    for (let at = 0; at < bytes.length; ) {
      const room = a.space();
      const n = Math.min(piece, room.length, bytes.length - at);
      bytes.copy(room, 0, at, at + n);
      at += n;
      got.push(...a.filled(n));
    }
    assert.equal(a.leftover, 0, `piece ${piece}`);
    assert.equal(got.length, 15, `piece ${piece}`);
    assert.deepEqual(got.map((r) => r.op), [...sample(), ...sample(), ...sample()].map((r) => r[4]), `piece ${piece}`);
    for (const w of [got[1]!, got[6]!, got[11]!]) assert.ok(w.payload.equals(Buffer.alloc(300_000, 7)));
    assert.equal(toEvent(got[2]!)!.type, 'rename');
  }
  const a = new RecordArena();
  const one = record(REC.unlink, 0n, 0n, [Buffer.from('x')]);
  one.copy(a.space(), 0, 0, one.length - 1);
  assert.deepEqual(a.filled(one.length - 1), []);
  assert.equal(a.leftover, one.length - 1);
});

test('an arena is reused only after a piece of a later arena was written', () => {
  const pool = new ArenaPool(1024);
  const a0 = pool.take();
  pool.retire(a0);
  const a1 = pool.take();
  arenaPiecesWritten([a0.subarray(0, 10)]);
  assert.equal(pool.freeCount, 0, 'a piece of arena 0 written: arena 0 may still have pieces queued');
  arenaPiecesWritten([a0.subarray(10, 20), Buffer.alloc(5), a1.subarray(0, 10), Buffer.alloc(3)]);
  assert.equal(pool.freeCount, 1, 'a piece of arena 1 written: arena 0 is free');
  assert.equal(pool.take(), a0, 'and handed out again');
  pool.retire(a1);
  arenaPiecesWritten([a1.subarray(0, 10)]);
  assert.equal(pool.freeCount, 0);
});
