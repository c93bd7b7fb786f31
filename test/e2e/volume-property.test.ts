// Property: whatever writes, hole punches and size changes happen to an image between runs, each
// round of capture --state then replay leaves the copy byte-identical to the image, and no less
// sparse than the blocks holding data. In process (the library behind rill capture | rill replay,
// with the state files of both sides), so many cases run in seconds; the CLI path is tested in
// volume.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, ftruncateSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import fc from 'fast-check';
import { tempDir } from '../helpers/tree.js';
import { sys } from '../../src/sys/native.js';
import { loadHasher } from '../../src/capture/blocks.js';
import { openScanRoot } from '../../src/capture/root.js';
import { planFromState } from '../../src/capture/state-plan.js';
import { volumeCapture } from '../../src/capture/volume.js';
import { applyVolume } from '../../src/replica/volume.js';
import { newHeader } from '../../src/stream/encode.js';
import { Sequencer } from '../../src/stream/sequence.js';
import type { StreamRecord } from '../../src/stream/events.js';

await loadHasher();

/** One round: capture IMG against STATE into records, replay them into COPY. */
async function round(img: string, state: string, copy: string, bs: number): Promise<void> {
  const root = openScanRoot(img);
  const identity = { path: root.abs, dev: Number(root.st.dev), ino: Number(root.st.ino) };
  const plan = planFromState({ file: state, kind: 'volume', root: identity, full: false, blockSize: bs }, bs);
  const source = volumeCapture(root, { chunkSize: 256 * 1024, blockSize: plan.blockSize, plan, stateFile: state });
  const seq = new Sequencer(plan.firstSeq);
  const h = newHeader({ kind: 'volume', root: identity, source: plan.source, full: plan.full, base: plan.base });
  // Payloads are copied: the capture reuses no buffers here, but a stream's records are values.
  const events = [...source.events].map((e) => seq.assign(e.type === 'write' ? { ...e, data: Buffer.from(e.data) } : e));
  const records: StreamRecord[] = [{ type: 'header', magic: 'rill', version: 1, ...h } as StreamRecord, ...events, { type: 'end', count: events.length, checksum: 0, lastSeq: seq.last }];
  source.commit(seq.last);
  await applyVolume((async function* () { yield records; })(), copy, { log: () => {} });
}

const MAX = 3 << 20;

const opArb = fc.oneof(
  fc.record({ kind: fc.constant('write' as const), at: fc.nat({ max: MAX }), length: fc.integer({ min: 1, max: 200_000 }), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('punch' as const), at: fc.nat({ max: MAX }), length: fc.integer({ min: 1, max: 300_000 }) }),
  fc.record({ kind: fc.constant('truncate' as const), size: fc.nat({ max: MAX }) }),
);
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

function apply(path: string, op: Op): void {
  const fd = openSync(path, 'r+');
  try {
    if (op.kind === 'truncate') ftruncateSync(fd, op.size);
    else if (op.kind === 'punch') sys.punchHole(fd, op.at, op.length);
    else {
      // A pattern, not one repeated byte: a block that moved must not hash like its neighbour.
      const data = Buffer.alloc(op.length);
      for (let i = 0; i < data.length; i++) data[i] = (op.byte + i * 7 + (i >> 9)) & 0xff;
      writeSync(fd, data, 0, data.length, op.at);
    }
  } finally {
    closeSync(fd);
  }
}

/** Blocks of `bs` bytes that hold any of the file's data extents. */
function dataBlocks(path: string, bs: number): number {
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    let count = 0;
    let last = -1; // last block counted
    for (let at = 0; at < size; ) {
      const start = sys.seekData(fd, at);
      if (start < 0) break;
      const end = Math.min(sys.seekHole(fd, start), size);
      const from = Math.max(Math.floor(start / bs), last + 1);
      const to = Math.ceil(end / bs);
      if (to > from) count += to - from;
      last = Math.max(last, to - 1);
      at = end;
    }
    return count;
  } finally {
    closeSync(fd);
  }
}

test('property: random writes, punches and truncates, round after round; every replayed copy equals the image', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(512, 4096, 65536),
      fc.array(fc.array(opArb, { minLength: 0, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
      async (bs, rounds) => {
        const { dir, cleanup } = tempDir('rill-volprop-');
        try {
          const img = `${dir}/img`;
          const copy = `${dir}/copy`;
          const state = `${dir}/state`;
          writeFileSync(img, '');
          for (const ops of [[], ...rounds]) {
            for (const op of ops) apply(img, op);
            await round(img, state, copy, bs);
            const a = readFileSync(img);
            const b = readFileSync(copy);
            assert.equal(b.length, a.length, 'sizes');
            assert.ok(a.equals(b), 'contents');
            const bound = dataBlocks(img, bs) * bs;
            assert.ok(statSync(copy).blocks * 512 <= bound + 65536, `the copy allocates ${statSync(copy).blocks * 512} bytes, at most the ${bound} of the blocks holding data`);
          }
        } finally {
          cleanup();
        }
      },
    ),
    { numRuns: 50 },
  );
});
