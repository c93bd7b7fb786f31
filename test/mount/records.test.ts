// The native record format (native/fuse/rillfs.h) decoded from bytes cut anywhere, as a pipe may
// deliver them; and records turned into stream events. No FUSE needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RecordDecoder, REC, FIXED, type NativeRecord } from '../../src/capture/mount/records.js';
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
