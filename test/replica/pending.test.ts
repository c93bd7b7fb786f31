// New files are built under .rill/tmp and appear under their name only when complete; a truncated
// stream leaves neither a half-written file nor a temp file behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { encode } from '../helpers/codec.js';
import { applyRecords } from '../../src/replica/index.js';
import { readRecords } from '../../src/stream/inputs.js';
import { RillError } from '../../src/errors.js';
import type { Event, EventInput } from '../../src/stream/events.js';
import { feed, rejectsWith, stream, temps } from './helpers.js';

const chunk = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

test('a new file is invisible under its name until the stream moves on; the temp lives in .rill/tmp', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const recs = stream([
      { type: 'create', path: 'f', mode: 0o640 },
      { type: 'write', path: 'f', offset: 0, data: chunk(10, 1) },
      { type: 'write', path: 'f', offset: 10, data: chunk(10, 2) },
    ]);
    const seen: string[] = [];
    await applyRecords(
      feed(recs, (i) => {
        if (i === 2 || i === 3) seen.push(`${existsSync(join(dir, 'f'))} ${temps(dir).length}`);
      }),
      dir,
      { log: () => {} },
    );
    assert.deepEqual(seen, ['false 1', 'false 1']);
    assert.deepEqual(readFileSync(join(dir, 'f')), Buffer.concat([chunk(10, 1), chunk(10, 2)]));
    assert.equal(lstatSync(join(dir, 'f')).mode & 0o7777, 0o640);
    assert.deepEqual(temps(dir), []);
  } finally {
    cleanup();
  }
});

test('an event on another path finalizes the pending file; the old file stays whole until then', async () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'f'), 'old content');
    const recs = stream([
      { type: 'create', path: 'f', mode: 0o644 },
      { type: 'write', path: 'f', offset: 0, data: Buffer.from('new') },
      { type: 'mkdir', path: 'other', mode: 0o755 },
      { type: 'commit' },
    ]);
    const seen: string[] = [];
    await applyRecords(feed(recs, () => seen.push(readFileSync(join(dir, 'f'), 'utf8'))), dir, { log: () => {} });
    // before: header, create, write, mkdir (old content); then commit, end (new content)
    assert.deepEqual(seen, ['old content', 'old content', 'old content', 'old content', 'new', 'new']);
  } finally {
    cleanup();
  }
});

test('a stream that breaks off mid-file leaves no file and no temp, and throws the decoder error', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const recs = stream(
      [
        { type: 'create', path: 'done', mode: 0o644 },
        { type: 'write', path: 'done', offset: 0, data: Buffer.from('complete') },
        { type: 'commit' },
        { type: 'create', path: 'half', mode: 0o644 },
        { type: 'write', path: 'half', offset: 0, data: chunk(4096, 7) },
      ],
      { end: false },
    );
    const cut = new RillError('stream', 'truncated: the input ends inside a frame', { input: 'x', offset: 99 });
    const err = await rejectsWith(applyRecords(feed(recs, undefined, cut), dir, { log: () => {} }), 'stream');
    assert.equal(err, cut);
    assert.equal(readFileSync(join(dir, 'done'), 'utf8'), 'complete');
    assert.equal(existsSync(join(dir, 'half')), false);
    assert.deepEqual(temps(dir), []);
    assert.equal(JSON.parse(readFileSync(join(dir, '.rill/state.json'), 'utf8')).lastSeq, 3);
  } finally {
    cleanup();
  }
});

test('records that simply stop without an end record are a truncated stream too', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const recs = stream([{ type: 'create', path: 'half', mode: 0o644 }, { type: 'write', path: 'half', offset: 0, data: chunk(10, 1) }], { end: false });
    await rejectsWith(applyRecords(feed(recs), dir, { log: () => {} }), 'stream', /without an end record/);
    assert.equal(existsSync(join(dir, 'half')), false);
    assert.deepEqual(temps(dir), []);
  } finally {
    cleanup();
  }
});

test('through the real decoder: a byte-truncated stream applies nothing past the last good frame', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const events: EventInput[] = [
      { type: 'create', path: 'small', mode: 0o644 },
      { type: 'write', path: 'small', offset: 0, data: Buffer.from('ok') },
      { type: 'commit' },
      { type: 'create', path: 'big', mode: 0o644 },
    ];
    for (let i = 0; i < 16; i++) events.push({ type: 'write', path: 'big', offset: i * 4096, data: chunk(4096, i) });
    const bytes = await encode(events.map((e, i) => ({ ...e, seq: i + 1 }) as Event), { frameBytes: 8192 });
    const file = join(dir, 'cut.rill');
    writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const root = join(dir, 'replica');
    const err = await rejectsWith(applyRecords(readRecords([file]), root, { log: () => {} }), 'stream', /truncated/);
    assert.ok(err.offset !== undefined, 'the error says where');
    assert.equal(readFileSync(join(root, 'small'), 'utf8'), 'ok');
    assert.equal(existsSync(join(root, 'big')), false);
    assert.deepEqual(temps(root), []);
  } finally {
    cleanup();
  }
});

test('creating the same path twice before finalizing keeps only the last version', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const recs = stream([
      { type: 'create', path: 'f', mode: 0o600 },
      { type: 'write', path: 'f', offset: 0, data: Buffer.from('first version') },
      { type: 'create', path: 'f', mode: 0o644 },
      { type: 'write', path: 'f', offset: 0, data: Buffer.from('second') },
    ]);
    await applyRecords(feed(recs), dir, { log: () => {} });
    assert.equal(readFileSync(join(dir, 'f'), 'utf8'), 'second');
    assert.equal(lstatSync(join(dir, 'f')).mode & 0o7777, 0o644);
    assert.deepEqual(temps(dir), []);
  } finally {
    cleanup();
  }
});
