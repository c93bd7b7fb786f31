// The payload ring of capture --mount (src/capture/mount/ring.ts; format: native/fuse/rillfs.h,
// "Payload ring") without a mount: positions handed out and checked, room freed as the output
// writes, the header the layer reads, and WRITE records whose data lies in the ring.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PayloadRing, RING_HEAD, ringOf, anyRing } from '../../src/capture/mount/ring.js';
import { F_RING, FIXED, REC, RecordArena, RecordDecoder } from '../../src/capture/mount/records.js';
import { ArenaPool, arenaPiecesWritten } from '../../src/capture/mount/arena.js';
import { toEvent } from '../../src/capture/mount/events.js';

const K = 1024;
const SIZE = 128 * K;

/** A ring of SIZE data bytes, disposed after fn (rings are looked up by memory while they live). */
function withRing(fn: (ring: PayloadRing) => void, env = String(SIZE)): void {
  const ring = PayloadRing.create(env);
  assert.ok(ring !== undefined);
  try {
    fn(ring);
  } finally {
    ring.dispose();
  }
}

/** The ring's whole memory (header and data), reached through a view payload() handed out. */
const memoryOf = (view: Uint8Array): Buffer => Buffer.from(view.buffer);
/** The header's `consumed` (u64 at 0), as the layer reads it. */
const consumedOf = (view: Uint8Array): bigint => memoryOf(view).readBigUInt64LE(0);

test('PayloadRing.create: "0" means no ring; a size gives that many data bytes (at least 128 KiB)', () => {
  assert.equal(PayloadRing.create('0'), undefined);
  assert.equal(PayloadRing.create('-5'), undefined);
  assert.equal(PayloadRing.create('lots'), undefined);
  withRing((ring) => {
    assert.equal(ring.size, SIZE);
    assert.equal(typeof ring.fd, 'number', 'a memfd to hand to the layer');
    assert.equal(ring.pending, 0);
    ring.closeFd();
    assert.equal(ring.fd, undefined);
  });
  withRing((ring) => assert.equal(ring.size, 128 * K, 'below the minimum: the minimum'), '1000');
  withRing((ring) => assert.equal(ring.size, 256 * K), String(256 * K));
  assert.equal(anyRing(), false, 'disposed rings are forgotten');
});

test('payload(pos, len) is a view of the ring memory at RING_HEAD + pos % size', () => {
  withRing((ring) => {
    const a = ring.payload(0, 40 * K);
    const mem = memoryOf(a);
    assert.equal(mem.length, RING_HEAD + SIZE, 'the memory: header, then the data');
    assert.equal(a.byteOffset, RING_HEAD);
    assert.equal(a.length, 40 * K);
    // the same bytes, not a copy: what the layer puts there is what the payload says
    mem.fill(0x5a, RING_HEAD, RING_HEAD + 40 * K);
    assert.ok(a.equals(Buffer.alloc(40 * K, 0x5a)));
    a[7] = 0x11;
    assert.equal(mem[RING_HEAD + 7], 0x11);
    assert.equal(ringOf(a), ring);
    assert.equal(ringOf(Buffer.alloc(10)), undefined);

    const b = ring.payload(40 * K, 40 * K);
    assert.equal(b.byteOffset, RING_HEAD + 40 * K, 'consecutive payloads lie one after the other');
    assert.equal(b.buffer, a.buffer);
    // the layer may skip ahead (never back)
    const c = ring.payload(92 * K, 32 * K);
    assert.equal(c.byteOffset, RING_HEAD + 92 * K);
    assert.equal(ring.pending, 3);
  });
});

test('payload(): a payload crossing the end of the ring, going back, of no or too many bytes, or past the free room throws', () => {
  withRing((ring) => {
    assert.throws(() => ring.payload(0, 0), /payload ring/, 'len 0');
    assert.throws(() => ring.payload(0, SIZE + 1), /payload ring/, 'len > size');
    assert.throws(() => ring.payload(-1, 10), /payload ring/, 'negative position');
    assert.throws(() => ring.payload(2 ** 60, 10), /payload ring/, 'not a safe integer');
    assert.equal(ring.pending, 0, 'a refused payload is not handed out');

    const p0 = ring.payload(0, 40 * K);
    ring.payload(40 * K, 40 * K);
    const p2 = ring.payload(80 * K, 40 * K); // ends at 120 KiB
    assert.throws(() => ring.payload(100 * K, 10 * K), /position 102400/, 'a position going backwards');
    assert.throws(() => ring.payload(120 * K, 40 * K), /payload ring/, 'crosses the end: it must be at the next multiple of the size');
    assert.throws(() => ring.payload(SIZE, 40 * K), /payload ring/, 'wrapped, but the room there is not free yet (nothing consumed)');
    assert.equal(ring.pending, 3);

    ring.written(p0); // 40 KiB consumed: 128 + 40 - 40 = 128 fits exactly
    const wrapped = ring.payload(SIZE, 40 * K);
    assert.equal(wrapped.byteOffset, RING_HEAD, 'the wrapped payload lies at the start of the data');
    assert.throws(() => ring.payload(SIZE + 40 * K, 32 * K), /payload ring/, 'no room left until more is written');
    ring.written(p2); // everything up to 120 KiB written
    const next = ring.payload(SIZE + 40 * K, 80 * K); // ends at 248 KiB = consumed (120) + 128
    assert.equal(next.byteOffset, RING_HEAD + 40 * K);
    assert.throws(() => ring.payload(2 * SIZE, 32 * K), /payload ring/, 'the ring is full');
    assert.equal(ring.pending, 2);
  });
});

test('written(piece): frees that payload and all before it, a partial piece only those before; the header says where', () => {
  withRing((ring) => {
    const p = [0, 1, 2, 3].map((i) => ring.payload(i * 32 * K, 32 * K));
    const mem = memoryOf(p[0]!);
    assert.equal(consumedOf(p[0]!), 0n);
    mem.writeUInt32LE(1, 8); // the layer waits for room

    ring.written(p[1]!.subarray(0, 1000)); // part of payload 1: payload 0 is free, 1 not yet
    assert.equal(ring.pending, 3);
    assert.equal(consumedOf(p[0]!), BigInt(32 * K));
    assert.equal(mem.readUInt32LE(8), 0, 'a waiting layer is woken (its flag cleared)');

    ring.written(p[1]!.subarray(1000)); // the rest of payload 1, to its end
    assert.equal(ring.pending, 2);
    assert.equal(consumedOf(p[0]!), BigInt(64 * K));

    ring.written(p[3]!); // the newest: everything before it too
    assert.equal(ring.pending, 0);
    assert.equal(consumedOf(p[0]!), BigInt(128 * K));

    // written twice, or a view of the ring that is no payload handed out: nothing changes
    ring.written(p[3]!);
    ring.written(mem.subarray(0, 16));
    assert.equal(consumedOf(p[0]!), BigInt(128 * K));

    // around the ring: positions (and so `consumed`) keep growing past the size
    const q = ring.payload(SIZE + 10 * K, 100 * K);
    assert.equal(q.byteOffset, RING_HEAD + 10 * K);
    ring.written(q);
    assert.equal(consumedOf(q), BigInt(SIZE + 110 * K));
    assert.equal(ring.pending, 0);
  });
});

test('written(): thousands of payloads around a small ring keep their places and free the right room (the bookkeeping is compacted)', () => {
  withRing((ring) => {
    let pos = 0;
    let freed = 0;
    let held: Buffer | undefined;
    let heldEnd = 0;
    for (let round = 0; round < 5000; round++) {
      const len = 32 * K + ((round * 7919) % (32 * K));
      if ((pos % SIZE) + len > SIZE) pos += SIZE - (pos % SIZE); // as the layer does: never cut at the end
      if (pos + len - freed > SIZE && held !== undefined) {
        ring.written(held); // the output caught up: the layer's wait ends
        freed = heldEnd;
        held = undefined;
        assert.equal(ring.pending, 0);
      }
      const v = ring.payload(pos, len);
      assert.equal(v.byteOffset, RING_HEAD + (pos % SIZE));
      pos += len;
      // every third payload is written at once (with those before it), the others wait
      if (round % 3 === 0) {
        ring.written(v);
        freed = pos;
        held = undefined;
        assert.equal(ring.pending, 0);
      } else {
        held = v;
        heldEnd = pos;
      }
      assert.equal(consumedOf(v), BigInt(freed));
    }
    assert.ok(pos > 1000 * SIZE, 'went around the ring many times');
  });
});

test('arenaPiecesWritten frees ring payloads, alone and among arena pieces and foreign buffers', () => {
  withRing((ring) => {
    const p = [0, 1, 2, 3].map((i) => ring.payload(i * 32 * K, 32 * K));
    // a foreign buffer at the same offsets as a payload is not the ring's
    const foreign = Buffer.alloc(RING_HEAD + SIZE).subarray(RING_HEAD + 64 * K, RING_HEAD + 96 * K);
    arenaPiecesWritten([foreign, Buffer.alloc(100)]);
    assert.equal(ring.pending, 4);
    assert.equal(consumedOf(p[0]!), 0n);

    arenaPiecesWritten([Buffer.alloc(10), p[0]!, Buffer.alloc(10), p[1]!.subarray(0, 5), Buffer.alloc(10)]);
    assert.equal(ring.pending, 3, 'payload 0 is free (payload 1 was only begun)');
    assert.equal(consumedOf(p[0]!), BigInt(32 * K));

    const pool = new ArenaPool(1024);
    const a0 = pool.take();
    pool.retire(a0);
    const a1 = pool.take();
    arenaPiecesWritten([a0.subarray(0, 10), p[1]!.subarray(5), p[2]!, a1.subarray(0, 10), Buffer.alloc(3)]);
    assert.equal(pool.freeCount, 1, 'the arena piece frees the older arena');
    assert.equal(ring.pending, 1, 'and the ring piece before it frees payloads 1 and 2');
    assert.equal(consumedOf(p[0]!), BigInt(96 * K));

    arenaPiecesWritten([a1.subarray(10, 20), p[3]!]);
    assert.equal(ring.pending, 0);
    assert.equal(consumedOf(p[0]!), BigInt(128 * K));
  });
});

test('arenaPiecesWritten frees a ring payload the capture cut into events smaller than RING_MIN (--chunk-size 16K)', () => {
  withRing((ring) => {
    // mount.ts chunks(): a 96 KiB write becomes six 16 KiB write events, each a view of the ring
    const p = ring.payload(0, 96 * K);
    const pieces = [0, 1, 2, 3, 4, 5].map((i) => p.subarray(i * 16 * K, (i + 1) * 16 * K));
    arenaPiecesWritten(pieces.slice(0, 3));
    assert.equal(ring.pending, 1, 'half of it written: not free yet');
    arenaPiecesWritten(pieces.slice(3));
    assert.equal(ring.pending, 0, 'its last piece written: the payload is free (else the layer waits for room forever)');
    assert.equal(consumedOf(p), BigInt(96 * K));
  });
});

/** A WRITE record as the layer writes it: fixed part, path, then tail (inline data, or nothing when flags has F_RING and b/c say where in the ring). */
function writeRecord(path: string, offset: bigint, flags: number, b: bigint, c: bigint, tail: Buffer): Buffer {
  const name = Buffer.from(path);
  const fixed = Buffer.alloc(FIXED);
  fixed.writeUInt32LE(FIXED + 4 + name.length + tail.length, 0);
  fixed[4] = REC.write;
  fixed[5] = 1;
  fixed.writeUInt16LE(flags, 6);
  fixed.writeBigUInt64LE(1_700_000_000_000_000_000n, 8);
  fixed.writeBigUInt64LE(offset, 16);
  fixed.writeBigUInt64LE(b, 24);
  fixed.writeBigUInt64LE(c, 32);
  const n = Buffer.alloc(4);
  n.writeUInt32LE(name.length);
  return Buffer.concat([fixed, n, name, tail]);
}

/** A WRITE record whose data is in the ring (len bytes at position pos); extra: bytes after the path that are not its data. */
const ringWrite = (path: string, offset: bigint, len: number, pos: number, extra = Buffer.alloc(0)): Buffer =>
  writeRecord(path, offset, F_RING, BigInt(len), BigInt(pos), extra);

/** An inline WRITE record (data after the path). */
const inlineWrite = (path: string, offset: bigint, data: Buffer): Buffer => writeRecord(path, offset, 0, 0n, 0n, data);

test('a WRITE record with F_RING has the ring bytes at its position as its data (RecordDecoder, cut anywhere)', () => {
  withRing((ring) => {
    const bytes = Buffer.concat([
      ringWrite('d/f', 5n, 40 * K, 0),
      inlineWrite('d/g', 0n, Buffer.from('small')),
      ringWrite('d/f', 40n * 1024n + 5n, 80 * K, 40 * K),
    ]);
    const d = new RecordDecoder(ring);
    const got = [];
    for (let at = 0; at < bytes.length; at += 7) got.push(...d.push(bytes.subarray(at, at + 7)));
    assert.equal(d.leftover, 0);
    assert.equal(got.length, 3);
    const [w1, w2, w3] = got as [NonNullable<(typeof got)[0]>, NonNullable<(typeof got)[0]>, NonNullable<(typeof got)[0]>];
    // a pattern in the data area: the payloads must be exactly those bytes
    const mem = memoryOf(w1.payload);
    for (let i = RING_HEAD; i < mem.length; i++) mem[i] = (i * 31) & 0xff;
    assert.equal(w1.payload.byteOffset, RING_HEAD);
    assert.equal(w1.payload.length, 40 * K);
    assert.ok(w1.payload.equals(mem.subarray(RING_HEAD, RING_HEAD + 40 * K)));
    assert.equal(w2.payload.toString(), 'small');
    assert.equal(w3.payload.byteOffset, RING_HEAD + 40 * K);
    assert.ok(w3.payload.equals(mem.subarray(RING_HEAD + 40 * K, RING_HEAD + 120 * K)));
    assert.equal(ring.pending, 2);
    const e = toEvent(w3) as { type: string; path: string; offset: number; data: Buffer };
    assert.deepEqual([e.type, e.path, e.offset, e.data.length], ['write', 'd/f', 40 * K + 5, 80 * K]);
    assert.equal(e.data, w3.payload, 'the event refers to the ring, no copy');
    // a record pointing at room not yet freed is refused
    assert.throws(() => d.push(ringWrite('d/f', 0n, 64 * K, SIZE)), /payload ring/);
  });
});

test('a WRITE record with F_RING read into arenas (RecordArena) is a view of the ring', () => {
  withRing((ring) => {
    const bytes = Buffer.concat([ringWrite('x', 0n, 32 * K, 0), ringWrite('x', 32n * 1024n, 64 * K, 32 * K)]);
    const a = new RecordArena(new ArenaPool(256 * K), ring);
    const room = a.space();
    bytes.copy(room);
    const got = a.filled(bytes.length);
    assert.equal(got.length, 2);
    assert.equal(got[0]!.payload.buffer, got[1]!.payload.buffer);
    assert.equal(ringOf(got[1]!.payload), ring);
    assert.deepEqual([got[1]!.payload.byteOffset, got[1]!.payload.length], [RING_HEAD + 32 * K, 64 * K]);
    arenaPiecesWritten([got[0]!.payload, got[1]!.payload]);
    assert.equal(ring.pending, 0);
    assert.equal(consumedOf(got[0]!.payload), BigInt(96 * K));
  });
});

test('a WRITE record with F_RING without a ring, or with bytes after its path, is an error', () => {
  assert.throws(() => new RecordDecoder().push(ringWrite('f', 0n, 40 * K, 0)), /payload ring, but there is none/);
  withRing((ring) => {
    assert.throws(() => new RecordDecoder(ring).push(ringWrite('f', 0n, 40 * K, 0, Buffer.from('stray'))), /carries 5 bytes more/);
    assert.equal(ring.pending, 0);
    // F_RING means nothing on other records: their payload stays inline
    const xattr = inlineWrite('f', 0n, Buffer.from('value'));
    xattr[4] = REC.setxattr;
    xattr.writeUInt16LE(F_RING, 6);
    const [r] = new RecordDecoder(ring).push(xattr);
    assert.equal(r!.payload.toString(), 'value');
    assert.equal(ring.pending, 0);
  });
});
