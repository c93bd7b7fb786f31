// Parts (rill-stream(5)): the encoder writes end{more}; readers join an end{more} and the header that
// continues it (readBatches, across files too) into the original stream; anything that does not
// continue it passes through as it is; a continuation part cannot be full.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { writeFileSync } from 'node:fs';
import { StreamEncoder } from '../../src/stream/encode.js';
import { FORMAT_VERSION, MAGIC, type End, type Event, type Header, type StreamRecord } from '../../src/stream/events.js';
import { continues, joinParts, nextPartHeader } from '../../src/stream/join.js';
import { readBatches } from '../../src/stream/inputs.js';
import { RillError } from '../../src/errors.js';
import { decode, decodePartial } from '../helpers/codec.js';
import { tempDir } from '../helpers/tree.js';

const H: Header = { type: 'header', magic: MAGIC, version: FORMAT_VERSION, source: 's1', node: 'n', kind: 'tree', root: { path: '/r' }, created: 5n, full: true };
const ev = (seq: number): Event => ({ type: 'mkdir', seq, path: `d${seq}`, mode: 0o755 });

/** Bytes of records written through a header-less encoder (it computes each end's count, checksum, lastSeq). */
async function encodeRecords(records: StreamRecord[]): Promise<Buffer> {
  const enc = new StreamEncoder();
  const out: Buffer[] = [];
  enc.on('data', (b: Buffer) => out.push(Buffer.from(b)));
  const done = new Promise((resolve, reject) => enc.on('end', resolve).on('error', reject));
  Readable.from(records.map((r) => [r])).pipe(enc);
  await done;
  return Buffer.concat(out);
}

const end = (more?: boolean): End => ({ type: 'end', count: 0, checksum: 0, ...(more ? { more } : {}) });

/** A full stream of events 1..6 as part 0 (1..3, end{more}) and part 1 (4..6). */
function twoParts(): { part0: StreamRecord[]; part1: StreamRecord[] } {
  const h1 = nextPartHeader(H, { type: 'end', count: 3, checksum: 0, lastSeq: 3, more: true });
  return { part0: [H, ev(1), ev(2), ev(3), { type: 'end', count: 3, checksum: 0, lastSeq: 3, more: true }], part1: [h1, ev(4), ev(5), ev(6), { type: 'end', count: 3, checksum: 0, lastSeq: 6 }] };
}

async function collect(batches: AsyncIterable<StreamRecord[]>): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  for await (const b of batches) out.push(...b);
  return out;
}

test('nextPartHeader: same stream identity, part k+1, no full, base = the part before its last seq (or its base)', () => {
  const h1 = nextPartHeader(H, { type: 'end', count: 3, checksum: 0, lastSeq: 3, more: true });
  assert.deepEqual(h1, { type: 'header', magic: MAGIC, version: FORMAT_VERSION, source: 's1', node: 'n', kind: 'tree', root: { path: '/r' }, created: 5n, part: 1, base: 3 });
  const h2 = nextPartHeader(h1, { type: 'end', count: 0, checksum: 0, more: true });
  assert.deepEqual([h2.part, h2.base], [2, 3], 'an empty part: the base carries over');
  assert.ok(continues(h1, { type: 'end', count: 0, checksum: 0, more: true }, h2));
  assert.ok(!continues(h1, { type: 'end', count: 0, checksum: 0 }, h2), 'a plain end is not continued');
});

test('the encoder writes end{more}; readBatches joins the parts, across two files, into the original stream', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { part0, part1 } = twoParts();
    const a = await encodeRecords(part0);
    const b = await encodeRecords(part1);
    const alone = await decode(a);
    assert.deepEqual(alone.at(-1), { type: 'end', count: 3, checksum: (alone.at(-1) as End).checksum, lastSeq: 3, more: true });
    writeFileSync(`${dir}/a.rill`, a);
    writeFileSync(`${dir}/b.rill`, b);
    const joined = await collect(readBatches([`${dir}/a.rill`, `${dir}/b.rill`]));
    assert.deepEqual(joined.slice(0, -1), [H, ev(1), ev(2), ev(3), ev(4), ev(5), ev(6)]);
    const last = joined.at(-1) as End;
    assert.deepEqual([last.type, last.count, last.lastSeq, last.more], ['end', 6, 6, undefined]);
    // One file holding both (cat a b) joins the same way; part 0 alone ends with end{more}.
    writeFileSync(`${dir}/ab.rill`, Buffer.concat([a, b]));
    assert.deepEqual(await collect(readBatches([`${dir}/ab.rill`])), joined);
    assert.equal((await collect(readBatches([`${dir}/a.rill`]))).at(-1)?.type, 'end');
  } finally {
    cleanup();
  }
});

test('joinParts passes through what does not continue: another source, a wrong part or base, a plain end, end{more} last', async () => {
  const { part0, part1 } = twoParts();
  const h1 = part1[0] as Header;
  const cases: [string, StreamRecord[]][] = [
    ['another source', [...part0, { ...h1, source: 's2' }, ...part1.slice(1)]],
    ['a part number that skips', [...part0, { ...h1, part: 2 }, ...part1.slice(1)]],
    ['a base that is not the last seq', [...part0, { ...h1, base: 2 }, ...part1.slice(1)]],
    ['a plain end before it', [...part0.slice(0, -1), end(), ...part1]],
  ];
  for (const [why, recs] of cases) {
    const out = await collect(joinParts(Readable.from(recs.map((r) => [r]))));
    assert.deepEqual(out, recs, why);
  }
  const cut = await collect(joinParts(Readable.from([part0])));
  assert.deepEqual(cut, part0, 'an end{more} at the end of the input is passed on');
  // Batches as frames give them: the end{more} last in its batch, the next part's header first in the next.
  const framed = await collect(joinParts(Readable.from([part0.slice(0, 2), part0.slice(2), part1.slice(0, 1), part1.slice(1)])));
  assert.deepEqual(framed.slice(0, -1), [H, ev(1), ev(2), ev(3), ev(4), ev(5), ev(6)]);
  assert.deepEqual(framed.at(-1), { type: 'end', count: 6, checksum: 0, lastSeq: 6 });
});

test('a continuation header with full is refused by readers', async () => {
  const { part1 } = twoParts();
  const bytes = await encodeRecords([{ ...(part1[0] as Header), full: true }, ...part1.slice(1)]);
  const { error } = await decodePartial(bytes);
  assert.ok(error instanceof RillError);
  assert.match(error.message, /a header with part 1 continues a stream, so it cannot be full/);
});
