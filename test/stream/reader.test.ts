// The pull reader (two reused buffers): same records as the push decoder, frames cut by buffer ends,
// frames larger than a buffer, pipes, damage and truncation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, openSync, closeSync } from 'node:fs';
import { spawn } from 'node:child_process';
import fc from 'fast-check';
import { readFrames } from '../../src/stream/reader.js';
import { readRecords } from '../../src/stream/inputs.js';
import type { Event, StreamRecord } from '../../src/stream/events.js';
import { RillError } from '../../src/errors.js';
import { eventsArb } from '../helpers/arbitrary.js';
import { decode, encode } from '../helpers/codec.js';
import { tempDir } from '../helpers/tree.js';
import { sys } from '../../src/sys/native.js';

/** A digest of a record taken when it is consumed (its buffers may be reused afterwards). */
function fingerprint(r: StreamRecord): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v?.type === 'Buffer' ? Buffer.from(v.data).toString('base64') : v));
}

async function readFile(path: string): Promise<string[]> {
  const fd = openSync(path, 'r');
  try {
    const out: string[] = [];
    for await (const batch of readFrames(fd, { input: path })) for (const r of batch) out.push(fingerprint(r));
    return out;
  } finally {
    closeSync(fd);
  }
}

test('random streams read back the same as with the push decoder', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await fc.assert(
      fc.asyncProperty(eventsArb(), async (events) => {
        const bytes = await encode(events, { frameBytes: 300 });
        writeFileSync(`${dir}/s.rill`, bytes);
        assert.deepEqual(await readFile(`${dir}/s.rill`), (await decode(bytes)).map(fingerprint));
      }),
      { numRuns: 60 },
    );
  } finally {
    cleanup();
  }
});

test('many MiB of frames cut at buffer ends, and a frame larger than a buffer, keep every byte', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const events: Event[] = [];
    for (let i = 0; i < 90; i++) events.push({ type: 'write', seq: i + 1, path: 'f', offset: i * 100_003, data: Buffer.alloc(100_003 + (i % 7), i) });
    events.push({ type: 'write', seq: 91, path: 'g', offset: 0, data: Buffer.alloc(9 * 1024 * 1024 + 5, 0xab) });
    for (let i = 0; i < 30; i++) events.push({ type: 'write', seq: 92 + i, path: 'h', offset: i, data: Buffer.alloc(200_001, 255 - i) });
    const bytes = await encode(events, { frameBytes: 150_000 });
    writeFileSync(`${dir}/s.rill`, bytes);
    let n = 0;
    for await (const rec of readRecords([`${dir}/s.rill`])) {
      if (rec.type !== 'write') continue;
      const want = events[n++]! as Extract<Event, { type: 'write' }>;
      // Checked now, before asking for the next record: the reader reuses its buffers.
      assert.equal(rec.seq, want.seq);
      assert.ok(rec.data.equals(want.data), `payload of seq ${rec.seq} intact`);
    }
    assert.equal(n, events.length);
  } finally {
    cleanup();
  }
});

test('a pipe delivering small pieces', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const events: Event[] = Array.from({ length: 50 }, (_, i) => ({ type: 'write', seq: i + 1, path: 'p', offset: i, data: Buffer.alloc(70_000, i) }));
    writeFileSync(`${dir}/s.rill`, await encode(events));
    sys.mknod(`${dir}/fifo`, 0o010600, 0);
    // Another process writes the stream into the fifo in 1000-byte pieces.
    const writer = spawn('python3', ['-c', `import sys\nd=open(sys.argv[1],'rb').read()\nf=open(sys.argv[2],'wb',0)\nfor i in range(0,len(d),1000): f.write(d[i:i+1000])`, `${dir}/s.rill`, `${dir}/fifo`], { stdio: 'inherit' });
    // listening from the start: the writer may exit before the last frames are read
    const exited = new Promise((resolve) => writer.on('exit', resolve));
    const fd = openSync(`${dir}/fifo`, 'r');
    let n = 0;
    try {
      for await (const batch of readFrames(fd, { input: 'fifo' })) {
        for (const r of batch) if (r.type === 'write') assert.ok(r.data.equals(Buffer.alloc(70_000, n++)));
      }
    } finally {
      closeSync(fd);
    }
    assert.equal(n, 50);
    await exited;
  } finally {
    cleanup();
  }
});

test('damage and truncation are reported with input and position', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const bytes = await encode(Array.from({ length: 20 }, (_, i) => ({ type: 'write' as const, seq: i + 1, path: 'x', offset: 0, data: Buffer.alloc(50_000, i) })), { frameBytes: 60_000 });
    const bad = Buffer.from(bytes);
    bad[bytes.length >> 1]! ^= 0x10;
    writeFileSync(`${dir}/bad.rill`, bad);
    writeFileSync(`${dir}/cut.rill`, bytes.subarray(0, bytes.length - 10));
    for (const [file, re] of [['bad.rill', /bad\.rill, byte \d+, record \d+: corrupt frame: CRC mismatch/], ['cut.rill', /cut\.rill, byte \d+, record \d+: truncated/]] as const) {
      await assert.rejects(readFile(`${dir}/${file}`), (err: unknown) => {
        assert.ok(err instanceof RillError);
        assert.match(err.describe(), re);
        return true;
      });
    }
  } finally {
    cleanup();
  }
});
