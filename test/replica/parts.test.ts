// A full stream split in two parts (as a journal splits it: end{more}, then a continuation header):
// `rill replay ROOT a b` joins them and makes the same tree as the whole stream; part 0 alone records
// its progress but removes nothing the missing part might name, and says so.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { makeTree, tempDir } from '../helpers/tree.js';
import { rill } from '../helpers/cli.js';
import { StreamEncoder } from '../../src/stream/encode.js';
import { readBatches } from '../../src/stream/inputs.js';
import type { Event, Header, StreamRecord } from '../../src/stream/events.js';
import { nextPartHeader } from '../../src/stream/join.js';

async function encodeRecords(records: StreamRecord[]): Promise<Buffer> {
  const enc = new StreamEncoder();
  const out: Buffer[] = [];
  enc.on('data', (b: Buffer) => out.push(Buffer.from(b)));
  const done = new Promise((resolve, reject) => enc.on('end', resolve).on('error', reject));
  Readable.from([records]).pipe(enc);
  await done;
  return Buffer.concat(out);
}

/** Splits the one stream in file `whole` after its k-th event into part 0 (a) and part 1 (b). */
async function split(whole: string, a: string, b: string, at: (events: Event[]) => number): Promise<{ lastSeq0: number }> {
  const recs: StreamRecord[] = [];
  for await (const batch of readBatches([whole])) {
    for (const r of batch) recs.push(r.type === 'write' ? { ...r, data: Buffer.from(r.data) } : r.type === 'setxattr' ? { ...r, value: Buffer.from(r.value) } : r);
  }
  const header = recs[0] as Header;
  const events = recs.filter((r): r is Event => r.type !== 'header' && r.type !== 'end');
  const k = at(events);
  const lastSeq0 = events[k - 1]!.seq;
  const end0 = { type: 'end', count: k, checksum: 0, lastSeq: lastSeq0, more: true } as const;
  writeFileSync(a, await encodeRecords([header, ...events.slice(0, k), end0]));
  writeFileSync(b, await encodeRecords([nextPartHeader(header, end0), ...events.slice(k), { type: 'end', count: 0, checksum: 0 }]));
  return { lastSeq0 };
}

test('a full stream in two parts replayed as two files gives the tree of the whole; part 0 alone keeps the extras', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    makeTree(src, [
      { type: 'dir', path: 'a', mode: 0o755 },
      { type: 'file', path: 'a/one', content: 'one' },
      { type: 'dir', path: 'b', mode: 0o750 },
      { type: 'file', path: 'b/two', content: Buffer.alloc(300_000, 7) },
      { type: 'symlink', path: 'b/ln', target: '../a/one' },
      { type: 'dir', path: 'c', mode: 0o755 },
      { type: 'file', path: 'c/three', content: 'three' },
    ]);
    const cap = rill(['capture', '--scan', src]);
    assert.equal(cap.code, 0, cap.stderr);
    const whole = join(dir, 'whole.rill');
    writeFileSync(whole, cap.stdout);
    const a = join(dir, 'a.rill');
    const b = join(dir, 'b.rill');
    // Split inside directory b: a and its sweep are done in part 0, b, c and the root are left to part 1.
    const { lastSeq0 } = await split(whole, a, b, (evs) => evs.findIndex((e) => e.type === 'create' && e.path === 'b/two') + 1);

    const extras = (root: string): void =>
      makeTree(root, [
        { type: 'file', path: 'junk', content: 'not in the source' },
        { type: 'dir', path: 'a' },
        { type: 'file', path: 'a/old', content: 'old' },
        { type: 'dir', path: 'c' },
        { type: 'file', path: 'c/stale', content: 'stale' },
      ]);
    const joined = join(dir, 'joined');
    const alone = join(dir, 'alone');
    extras(joined);
    extras(alone);

    const r = rill(['replay', joined, a, b]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, /end\.more/, 'the parts were joined: no end{more} reached replay');
    const same = rill(['verify', src, joined]);
    assert.equal(same.code, 0, `${same.stdout}${same.stderr}`);

    const p0 = rill(['replay', alone, a]);
    assert.equal(p0.code, 0, p0.stderr);
    assert.match(p0.stderr, new RegExp(`note: the stream of source \\S+ goes on after seq ${lastSeq0} in a part this input does not hold \\(end\\.more\\); progress is recorded, and entries the full stream did not name are kept`));
    assert.equal(p0.stderr.trim().split('\n').length, 1, `one note line: ${p0.stderr}`);
    assert.equal(JSON.parse(readFileSync(join(alone, '.rill/state.json'), 'utf8')).lastSeq, lastSeq0);
    assert.ok(existsSync(join(alone, 'junk')), 'the root is not swept: the rest of the stream is missing');
    assert.ok(existsSync(join(alone, 'c/stale')), 'nor a directory part 0 did not reach');
    assert.ok(!existsSync(join(alone, 'a/old')), 'a directory part 0 finished was swept as the stream left it');
    assert.equal(readFileSync(join(alone, 'a/one'), 'utf8'), 'one');

    // Part 1 later, alone: a change set on top of what part 0 recorded.
    const p1 = rill(['replay', alone, b]);
    assert.equal(p1.code, 0, p1.stderr);
    assert.equal(readFileSync(join(alone, 'c/three'), 'utf8'), 'three');
  } finally {
    cleanup();
  }
});
