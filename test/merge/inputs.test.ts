// sort-merge's inputs as a user gives them to bin/rill: stream files in any order, a journal directory
// (what `ship --sink` stores) and its segment files, stdin; and bad input, each with its message and
// exit code (3 corrupt, 5 I/O, 7 inputs that do not fit), never a partial output left as complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JournalWriter } from '../../src/journal/index.js';
import { FORMAT_VERSION, MAGIC, type Event, type EventInput } from '../../src/stream/events.js';
import { rill } from '../helpers/cli.js';
import { decode } from '../helpers/codec.js';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';
import { header, writeInputs } from './harness.js';

/** Events from seq `first`: a file written `n` times (4 KiB each, the same block). */
function rewrites(first: number, n: number): Event[] {
  const out: EventInput[] = first === 1 ? [{ type: 'create', path: 'f', mode: 0o644 }] : [];
  while (out.length < n) out.push({ type: 'write', path: 'f', offset: 0, data: Buffer.alloc(4096, first + out.length) });
  return out.map((e, i) => ({ ...e, seq: first + i }) as Event);
}

const events = (recs: Awaited<ReturnType<typeof decode>>): Event[] => recs.filter((r): r is Event => r.type !== 'header' && r.type !== 'end');

test('increments given in any order are merged in seq order; a re-sent segment is dropped with a warning', async () => {
  const { dir, cleanup } = tempDir('rill-merge-in-');
  try {
    const a = rewrites(1, 10);
    const b = rewrites(11, 10);
    const names = await writeInputs(dir, [{ events: a }, { events: b, header: header({ base: 10 }) }, { events: b.slice(5), header: header({ base: 15 }) }]);
    const r = rill(['sort-merge', names[2]!, names[1]!, names[0]!]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /in-2\.rill: 5 events at or below seq 20 were read before .*re-sent segment, dropped/);
    const out = events(await decode(r.stdout));
    const writes = out.filter((e) => e.type === 'write');
    assert.equal(writes.length, 1);
    assert.ok((writes[0] as Extract<Event, { type: 'write' }>).data.equals(Buffer.alloc(4096, 20)), 'the last write wins');
    assert.equal(out.at(-1)!.seq, 20, 'the output ends on the last seq');
  } finally {
    cleanup();
  }
});

test('a journal directory (a ship --sink inbox) and its segment files are inputs', async () => {
  const { dir, cleanup } = tempDir('rill-merge-jn-');
  try {
    const journal = join(dir, 'inbox');
    const w = await JournalWriter.open(journal, { segmentBytes: 16 * 1024, onWarning: () => {} });
    w.beginStream({ type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...header() });
    for (const e of rewrites(1, 40)) w.append(e);
    w.endStream();
    await w.sync();
    await w.close();
    const segments = readdirSync(journal).filter((n) => n.endsWith('.rill'));
    assert.ok(segments.length > 2, `the journal rotated (${segments.length} segments)`);
    const fromDir = rill(['sort-merge', journal]);
    assert.equal(fromDir.code, 0, fromDir.stderr);
    const fromFiles = rill(['sort-merge', ...segments.reverse().map((n) => join(journal, n))]);
    assert.equal(fromFiles.code, 0, fromFiles.stderr);
    for (const out of [fromDir.stdout, fromFiles.stdout]) {
      const evs = events(await decode(out));
      assert.deepEqual(evs.map((e) => e.type), ['create', 'write', 'commit']);
      assert.ok((evs[1] as Extract<Event, { type: 'write' }>).data.equals(Buffer.alloc(4096, 40)));
    }
  } finally {
    cleanup();
  }
});

test('a gap in seq between increments is refused with 7, naming the missing seqs', async () => {
  const { dir, cleanup } = tempDir('rill-merge-gap-');
  try {
    const names = await writeInputs(dir, [{ events: rewrites(1, 10) }, { events: rewrites(16, 5), header: header({ base: 15 }) }]);
    const out = join(dir, 'out.rill');
    const r = rill(['sort-merge', '--output', out, ...names]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /^rill sort-merge: \S+in-1\.rill: seq 11\.\.15 of source \S+ \(node n1\) are missing: .*in-0\.rill ends at seq 10, .*in-1\.rill is a change set on top of seq 15/);
    assert.equal(existsSync(out), false, 'no output file');
    assert.deepEqual(readdirSync(dir).filter((n) => !n.startsWith('in-')), [], 'no temporary file left');
  } finally {
    cleanup();
  }
});

test('streams of different sources are refused with 7 unless --allow-multiple-sources', async () => {
  const { dir, cleanup } = tempDir('rill-merge-src-');
  try {
    const other = '00000000-0000-4000-8000-0000000000bb';
    const names = await writeInputs(dir, [{ events: rewrites(1, 5) }, { events: rewrites(1, 5).map((e) => ({ ...e, path: 'f' })), header: header({ source: other, node: 'n2' }) }]);
    const r = rill(['sort-merge', ...names]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /the inputs come from 2 sources: .*in-0\.rill \(source \S+aa, node n1\), .*in-1\.rill \(source \S+bb, node n2\).*--allow-multiple-sources/);
    assert.equal(r.stdout.length, 0);
    const ok = rill(['sort-merge', '--allow-multiple-sources', ...names]);
    assert.equal(ok.code, 0, ok.stderr);
    const h = (await decode(ok.stdout))[0]!;
    assert.ok(h.type === 'header' && h.source !== other && !h.source.endsWith('aa'), 'a stream of a new source');
  } finally {
    cleanup();
  }
});

test('a corrupt input fails with 3 naming it and the byte offset; --output is not created', async () => {
  const { dir, cleanup } = tempDir('rill-merge-bad-');
  try {
    const [name] = await writeInputs(dir, [{ events: rewrites(1, 50) }]);
    const bytes = readFileSync(name!);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x40;
    writeFileSync(name!, bytes);
    const out = join(dir, 'out.rill');
    const r = rill(['sort-merge', '-o', out, name!]);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /in-0\.rill.*(CRC mismatch|corrupt)/);
    assert.match(r.stderr, /byte \d+/);
    assert.equal(existsSync(out), false);
    const cut = rill(['sort-merge', '-'], readFileSync(name!).subarray(0, 100));
    assert.equal(cut.code, 3, cut.stderr);
    assert.match(cut.stderr, /stdin.*(truncated|corrupt)/);
  } finally {
    cleanup();
  }
});

test('usage errors exit 2: a bad --memory', () => {
  const r = rill(['sort-merge', '--memory', 'lots']);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--memory/);
});

test('a full --tmpdir fails with 5 naming it; the output and the spill files are gone', async (t) => {
  if (!requireCapability(t, isRoot, 'root (mounts a small tmpfs)')) return;
  const { dir, cleanup } = tempDir('rill-merge-full-');
  const mnt = join(dir, 'small');
  try {
    execFileSync('mkdir', [mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mnt]);
    // 6 MiB of distinct blocks with 64 KiB of memory: runs of far more than the 1 MiB tmpfs.
    const evs: Event[] = [{ type: 'create', path: 'f', mode: 0o644, seq: 1 }];
    for (let i = 0; i < 96; i++) evs.push({ type: 'write', path: 'f', offset: i * 65536, data: Buffer.alloc(65536, i), seq: i + 2 });
    const [name] = await writeInputs(dir, [{ events: evs }]);
    const out = join(dir, 'out.rill');
    const r = rill(['sort-merge', '--memory', '64K', '--tmpdir', mnt, '-o', out, name!]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`cannot spill to the temporary directory "${mnt}": no space left on device`));
    assert.equal(existsSync(out), false, 'no output');
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('out')), [], 'no temporary output');
    assert.deepEqual(readdirSync(mnt), [], 'spill files removed');
    // With room, the same merge works and spills.
    const ok = rill(['sort-merge', '--memory', '64K', '--tmpdir', dir, '--verbose', '-o', out, name!]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stderr, /MiB spilled in \d+ runs/);
  } finally {
    try {
      execFileSync('umount', [mnt]);
    } catch {
      // not mounted
    }
    cleanup();
  }
});

test('streams of two nodes of one source merge by time, then node name: the later write wins a conflict', async () => {
  const { dir, cleanup } = tempDir('rill-merge-nodes-');
  try {
    const w = (seq: number, offset: number, byte: number, time: bigint): Event => ({ type: 'write', path: 'f', offset, data: Buffer.alloc(10, byte), seq, time });
    const a: Event[] = [{ type: 'create', path: 'f', mode: 0o644, seq: 1, time: 1n }, w(2, 0, 0xa1, 10n), w(3, 100, 0xa2, 20n)];
    const b: Event[] = [w(1, 0, 0xb1, 10n), w(2, 100, 0xb2, 15n)];
    // Given b first: the order of the inputs does not matter.
    const names = await writeInputs(dir, [{ events: b, header: header({ node: 'node-b' }) }, { events: a, header: header({ node: 'node-a' }) }]);
    const r = rill(['sort-merge', ...names]);
    assert.equal(r.code, 0, r.stderr);
    const recs = await decode(r.stdout);
    const h = recs[0]!;
    assert.ok(h.type === 'header' && h.node === 'node-a,node-b', 'the output names both nodes');
    const writes = events(recs).filter((e): e is Extract<Event, { type: 'write' }> => e.type === 'write');
    const at = (offset: number): number => {
      const hit = writes.filter((x) => x.offset <= offset && offset < x.offset + x.data.length).at(-1)!;
      return hit.data[offset - hit.offset]!;
    };
    assert.equal(at(0), 0xb1, 'equal times: node-b sorts after node-a, so its write is the later one');
    assert.equal(at(100), 0xa2, 'node-a wrote at 20 ns, after node-b at 15 ns');
    const seqs = events(recs).map((e) => e.seq);
    assert.deepEqual(seqs, [...seqs].sort((x, y) => x - y), 'seqs increase');
  } finally {
    cleanup();
  }
});

test('a journal whose last stream is still open is merged up to its last whole frame, with a warning', async () => {
  const { dir, cleanup } = tempDir('rill-merge-open-');
  try {
    const journal = join(dir, 'inbox');
    const w = await JournalWriter.open(journal, { onWarning: () => {} });
    w.beginStream({ type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...header() });
    for (const e of rewrites(1, 8)) w.append(e);
    await w.close(); // the stream stays open, as a running or killed writer leaves it
    const r = rill(['sort-merge', journal]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /journal \S+inbox: its last stream has no end record yet .*merged up to its last whole frame/);
    const evs = events(await decode(r.stdout));
    assert.equal(evs.at(-1)!.seq, 8);
    assert.ok((evs.find((e) => e.type === 'write') as Extract<Event, { type: 'write' }>).data.equals(Buffer.alloc(4096, 8)));
  } finally {
    cleanup();
  }
});

test('--squash on stdin keeps only the last bookmark and coalesces across the others', async () => {
  const { dir, cleanup } = tempDir('rill-merge-squash-');
  try {
    const evs: Event[] = [];
    for (let b = 0; b < 3; b++) {
      evs.push(...rewrites(evs.length + 1, 5));
      evs.push({ type: 'bookmark', name: `b${b}`, wall: 1n, consistent: true, seq: evs.length + 1 });
    }
    const [name] = await writeInputs(dir, [{ events: evs }]);
    const r = rill(['sort-merge', '--squash', '--tmpdir', dir], readFileSync(name!));
    assert.equal(r.code, 0, r.stderr);
    const out = events(await decode(r.stdout));
    assert.deepEqual(out.map((e) => e.type), ['create', 'write', 'bookmark'], JSON.stringify(out.map((e) => e.type)));
    assert.equal((out[2] as Extract<Event, { type: 'bookmark' }>).name, 'b2');
    assert.equal(out[2]!.seq, evs.at(-1)!.seq, 'the bookmark keeps its seq');
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith('rill-sort-merge-')), [], 'the spooled stdin is removed');
  } finally {
    cleanup();
  }
});
