// Volume mode end to end, as a user runs it: rill capture --scan --state S IMAGE | rill replay COPY,
// round after round (writes in data and in holes, punched blocks, appends, shrinking); block devices
// (loop devices) as source and target; the refusals (foreign state, missed change set, tree stream
// into a file, volume stream into a directory, a device too small); a replay killed mid-way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';
import { RILL, rill, sh, q } from '../helpers/cli.js';
import { sys } from '../../src/sys/native.js';
import { loadHasher } from '../../src/capture/blocks.js';
import { openScanRoot } from '../../src/capture/root.js';
import { volumeCapture } from '../../src/capture/volume.js';
import { encodeTo } from '../../src/cli-encode.js';
import { newHeader } from '../../src/stream/encode.js';
import { writeEvents } from '../../src/capture/emit.js';
import { prng } from '../helpers/prng.js';

const BS = 4096;


function withFd<T>(path: string, flags: string, f: (fd: number) => T): T {
  const fd = openSync(path, flags);
  try {
    return f(fd);
  } finally {
    closeSync(fd);
  }
}

const writeAt = (path: string, at: number, data: Buffer): void => void withFd(path, 'r+', (fd) => writeSync(fd, data, 0, data.length, at));
const punch = (path: string, at: number, length: number): void => withFd(path, 'r+', (fd) => sys.punchHole(fd, at, length));
const resize = (path: string, size: number): void => withFd(path, 'r+', (fd) => ftruncateSync(fd, size));

/** Data extents [start, end) of a file (SEEK_DATA / SEEK_HOLE). */
function extents(path: string): [number, number][] {
  return withFd(path, 'r', (fd) => {
    const size = statSync(path).size;
    const out: [number, number][] = [];
    for (let at = 0; at < size; ) {
      const start = sys.seekData(fd, at);
      if (start < 0) break;
      const end = Math.min(sys.seekHole(fd, start), size);
      out.push([start, end]);
      at = end;
    }
    return out;
  });
}

/** The replica is no less sparse than the source: each of its data extents lies in the source's, widened to whole blocks. */
function assertSparse(src: string, copy: string): void {
  const s = extents(src).map(([a, b]) => [Math.floor(a / BS) * BS, Math.ceil(b / BS) * BS] as const);
  for (const [a, b] of extents(copy)) {
    assert.ok(
      s.some(([x, y]) => x <= a && b <= y),
      `replica data [${a}, ${b}) is outside the source's data extents ${JSON.stringify(s)}`,
    );
  }
  assert.ok(statSync(copy).blocks <= statSync(src).blocks + 8, `replica allocates ${statSync(copy).blocks} blocks, source ${statSync(src).blocks}`);
}

function assertSame(a: string, b: string, what = ''): void {
  const x = readFileSync(a);
  const y = readFileSync(b);
  assert.equal(y.length, x.length, `${what}: sizes differ`);
  assert.ok(x.equals(y), `${what}: contents differ`);
}

interface Dumped {
  header: { source: string; kind: string; full?: boolean; base?: number };
  events: { type: string; seq: number; path?: string; offset?: number; size?: number; length?: number; data?: { length: number } }[];
  lastSeq: number;
}

function dump(stream: string): Dumped {
  const r = rill(['dump', stream]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  return { header: lines[0] as Dumped['header'], events: lines.slice(1, -1) as Dumped['events'], lastSeq: (lines.at(-1) as { lastSeq: number }).lastSeq };
}

/** Bytes a change set must write: blocks of the new content that are not all zeros and differ from the old block (or are past it). */
function changedBlockBytes(before: Buffer, after: Buffer): number {
  let bytes = 0;
  for (let at = 0; at < after.length; at += BS) {
    const block = after.subarray(at, at + BS);
    if (block.every((b) => b === 0)) continue;
    const old = before.subarray(at, at + BS);
    if (old.length === block.length && old.equals(block)) continue;
    bytes += block.length;
  }
  return bytes;
}

const writtenBytes = (d: Dumped): number => d.events.reduce((n, e) => n + (e.type === 'write' ? e.data!.length : 0), 0);

test('a sparse image: full copy into a missing path, then change sets of writes, holes, appends and shrinking; each round equal and sparse', () => {
  const { dir, cleanup } = tempDir('rill-volume-');
  try {
    const rnd = prng(42);
    const img = `${dir}/vm.img`;
    const state = `${dir}/vm.state`;
    const copy = `${dir}/replica/images/vm.img`; // its directories are missing too
    const stream = `${dir}/s.rill`;
    writeFileSync(img, '');
    resize(img, 8 << 20);
    writeAt(img, 0, rnd(3 * BS));
    writeAt(img, 1_000_000, rnd(50_000));
    writeAt(img, 6_000_000, rnd(BS));

    const round = (n: number, change: () => void): void => {
      const before = readFileSync(img);
      change();
      const after = readFileSync(img);
      const c = sh(`rill capture --scan --state ${q(state)} --block-size 4K ${q(img)} > ${q(stream)}`);
      assert.equal(c.code, 0, c.stderr);
      const d = dump(stream);
      assert.equal(d.header.kind, 'volume');
      assert.ok(d.events.every((e) => e.path === undefined || e.path === ''), 'data events name the volume ""');
      if (n === 0) {
        assert.equal(d.header.full, true);
        assert.equal(writtenBytes(d), changedBlockBytes(Buffer.alloc(0), after), 'a full stream writes the data blocks');
      } else {
        assert.notEqual(d.header.full, true, `round ${n} is a change set`);
        assert.equal(typeof d.header.base, 'number');
        assert.equal(writtenBytes(d), changedBlockBytes(before, after), `round ${n}: the stream writes exactly the changed blocks`);
        const truncates = d.events.filter((e) => e.type === 'truncate');
        assert.deepEqual(truncates.map((e) => e.size), after.length === before.length ? [] : [after.length]);
      }
      const r = sh(`rill replay ${q(copy)} < ${q(stream)}`);
      assert.equal(r.code, 0, r.stderr);
      assertSame(img, copy, `round ${n}`);
      assertSparse(img, copy);
    };

    round(0, () => {});
    assert.equal(statSync(copy).mode & 0o777, 0o600, 'a new image is private');
    assert.ok(existsSync(`${dir}/replica/images/.vm.img.rill-state`), 'progress beside the image');
    round(1, () => {
      for (let i = 0; i < 40; i++) writeAt(img, Math.floor(rnd(4).readUInt32LE(0) % ((8 << 20) - 700)), rnd(1 + (i * 37) % 700));
      writeAt(img, 3_000_000, rnd(20_000)); // into a hole
      punch(img, 1_000_000 - (1_000_000 % BS) + BS, 2 * BS); // whole blocks become holes
      punch(img, 0, 100); // part of a block: zeros, still data
    });
    round(2, () => {
      withFd(img, 'a', (fd) => writeSync(fd, rnd(10_000))); // append: size not a multiple of the block size
      writeAt(img, 5 << 20, rnd(3));
    });
    round(3, () => {
      resize(img, 5_000_001); // shrink into a block
      punch(img, 6_000, 10 * BS);
    });
    round(4, () => resize(img, 9 << 20)); // grow with a hole
    round(5, () => {}); // nothing changed: nothing written
    assert.equal(writtenBytes(dump(stream)), 0);
  } finally {
    cleanup();
  }
});

/** losetup a backing file; returns the device. */
function loop(file: string): string {
  return execFileSync('losetup', ['--find', '--show', file], { encoding: 'utf8' }).trim();
}

function canLoop(): boolean {
  if (!isRoot) return false;
  try {
    execFileSync('losetup', ['--find'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** cmp of the first `n` bytes of two files or devices. */
function cmpN(a: string, b: string, n: number): boolean {
  try {
    execFileSync('cmp', ['-n', String(n), a, b], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test('block devices: a loop device captured as a volume, replayed into another loop device (over old data) and into a file; a device too small is refused', (t) => {
  if (!requireCapability(t, canLoop(), 'root and loop devices (losetup)')) return;
  const { dir, cleanup } = tempDir('rill-volume-');
  const devices: string[] = [];
  try {
    const rnd = prng(7);
    const size = 16 << 20;
    for (const name of ['a', 'b', 'c']) {
      writeFileSync(`${dir}/${name}.img`, '');
      resize(`${dir}/${name}.img`, name === 'c' ? size / 2 : size);
    }
    writeAt(`${dir}/a.img`, 0, rnd(64 * 1024));
    writeAt(`${dir}/a.img`, 9 << 20, rnd(300_000));
    writeAt(`${dir}/b.img`, 0, rnd(size)); // the target holds other data: the stream's holes must clear it
    const [a, b, c] = [loop(`${dir}/a.img`), loop(`${dir}/b.img`), loop(`${dir}/c.img`)];
    devices.push(a, b, c);
    const sa = `${dir}/a.state`;
    const sb = `${dir}/b.replica`;
    const file = `${dir}/copy.img`;
    const full = `${dir}/full.rill`;

    let r = sh(`rill capture --scan --state ${q(sa)} ${a} > ${q(full)}`);
    assert.equal(r.code, 0, r.stderr);
    const d = dump(full);
    assert.equal(d.header.kind, 'volume');
    assert.deepEqual(d.events.filter((e) => e.type === 'truncate').map((e) => e.size), [size], 'the size from BLKGETSIZE64');
    assert.ok(writtenBytes(d) <= 64 * 1024 + 300_000 + 2 * 65536, `zero blocks of the device are not sent (${writtenBytes(d)} bytes written)`);
    r = sh(`rill replay --state ${q(sb)} ${b} < ${q(full)}`);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(cmpN(a, b, size), 'device copy equal');
    r = sh(`rill replay ${q(file)} < ${q(full)}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(statSync(file).size, size);
    assert.ok(cmpN(a, file, size), 'file copy equal');
    assert.ok(statSync(file).blocks * 512 < 1 << 20, 'the file copy is sparse');

    // A change on the device: a change set, into both replicas.
    writeAt(a, 12 << 20, rnd(5000));
    execFileSync('blockdev', ['--flushbufs', a]);
    r = sh(`rill capture --scan --state ${q(sa)} ${a} > ${q(full)}.2`);
    assert.equal(r.code, 0, r.stderr);
    const d2 = dump(`${full}.2`);
    assert.equal(d2.header.full, false);
    assert.equal(writtenBytes(d2), 8192, 'two 4 KiB blocks (the default block size of a volume)');
    for (const [target, extra] of [[b, `--state ${q(sb)}`], [file, '']] as const) {
      r = sh(`rill replay ${extra} ${target} < ${q(full)}.2`);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(cmpN(a, target, size), `${target} equal after the change set`);
    }

    // Too small: exit 5, the message names the device and the sizes.
    r = sh(`rill replay --state ${q(`${dir}/c.replica`)} ${c} < ${q(full)}`);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`block device "${c}" holds ${size / 2} bytes, too small for the volume in the stream \\(its size reaches byte ${size}\\)`));
    // A block device needs --state.
    r = sh(`rill replay ${b} < ${q(full)}`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /needs --state FILE/);
  } finally {
    for (const dev of devices) execFileSync('losetup', ['-d', dev]);
    cleanup();
  }
});

test('refusals: a foreign state (exit 7 unless --full), a change set past a gap (exit 7 naming the seqs), a tree stream into a file and a volume stream into a directory (exit 2)', () => {
  const { dir, cleanup } = tempDir('rill-volume-');
  try {
    const rnd = prng(3);
    const x = `${dir}/x.img`;
    const y = `${dir}/y.img`;
    for (const f of [x, y]) writeFileSync(f, rnd(100_000));
    const sx = `${dir}/x.state`;
    const copy = `${dir}/copy.img`;
    assert.equal(sh(`rill capture --scan --state ${q(sx)} ${q(x)} | rill replay ${q(copy)}`).code, 0);

    let r = sh(`rill capture --scan --state ${q(sx)} ${q(y)} > /dev/null`);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /belongs to .*x\.img, not .*y\.img/);
    r = sh(`rill capture --scan --state ${q(`${dir}/y.state`)} --full ${q(y)} > /dev/null`);
    assert.equal(r.code, 0, r.stderr);
    r = sh(`rill capture --scan --state ${q(sx)} --full ${q(y)} > /dev/null`);
    assert.equal(r.code, 0, `--full rebuilds a foreign state: ${r.stderr}`);
    // sx now numbers y: x's next capture is foreign again; start x over.
    r = sh(`rill capture --scan --state ${q(sx)} --full ${q(x)} | rill replay ${q(copy)}`);
    assert.equal(r.code, 7, 'a new source into the replica of the old one');
    assert.match(r.stderr, /is a replica of source/);
    r = sh(`rill capture --scan --state ${q(sx)} --full ${q(x)} | rill replay --force ${q(copy)}`);
    assert.equal(r.code, 0, `--force: a full stream of another source replaces the replica: ${r.stderr}`);
    assertSame(x, copy);

    // A fresh pair: the replica misses the second change set.
    const sz = `${dir}/z.state`;
    const copy2 = `${dir}/copy2.img`;
    assert.equal(sh(`rill capture --scan --state ${q(sz)} ${q(x)} | rill replay ${q(copy2)}`).code, 0);
    writeAt(x, 10, rnd(10));
    assert.equal(sh(`rill capture --scan --state ${q(sz)} ${q(x)} > ${q(`${dir}/missed.rill`)}`).code, 0);
    const missed = dump(`${dir}/missed.rill`);
    writeAt(x, 50_000, rnd(10));
    assert.equal(sh(`rill capture --scan --state ${q(sz)} ${q(x)} > ${q(`${dir}/next.rill`)}`).code, 0);
    const before = readFileSync(copy2);
    r = sh(`rill replay ${q(copy2)} < ${q(`${dir}/next.rill`)}`);
    assert.equal(r.code, 7, r.stderr);
    const first = missed.events[0]!.seq;
    assert.match(r.stderr, new RegExp(`change set on top of seq ${missed.lastSeq} .* seq ${first}\\.\\.${missed.lastSeq} of source`));
    assert.ok(readFileSync(copy2).equals(before), 'nothing applied');
    // ... into a missing path: refused, nothing created.
    r = sh(`rill replay ${q(`${dir}/new.img`)} < ${q(`${dir}/next.rill`)}`);
    assert.equal(r.code, 7, r.stderr);
    assert.equal(existsSync(`${dir}/new.img`), false);
    // In order, it fits.
    r = sh(`cat ${q(`${dir}/missed.rill`)} ${q(`${dir}/next.rill`)} | rill replay ${q(copy2)}`);
    assert.equal(r.code, 0, r.stderr);
    assertSame(x, copy2);

    // Kinds that do not fit.
    mkdirSync(`${dir}/tree/d`, { recursive: true });
    writeFileSync(`${dir}/tree/d/f`, 'x');
    r = sh(`rill capture --scan ${q(`${dir}/tree`)} | rill replay ${q(copy2)}`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is a file, and this is a stream of a directory tree/);
    assertSame(x, copy2);
    mkdirSync(`${dir}/adir`);
    r = sh(`rill capture --scan ${q(x)} | rill replay ${q(`${dir}/adir`)}`);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /is a directory, and volume streams are replayed into a regular file or block device/);
    // A missing target with a tree stream is a tree replica, as always.
    r = sh(`rill capture --scan ${q(`${dir}/tree`)} | rill replay ${q(`${dir}/tree-copy`)}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(`${dir}/tree-copy/d/f`, 'utf8'), 'x');
    // --state is for volumes only.
    r = sh(`rill capture --scan ${q(`${dir}/tree`)} | rill replay --state ${q(`${dir}/st`)} ${q(`${dir}/tree-copy`)}`);
    assert.equal(r.code, 2, r.stderr);
  } finally {
    cleanup();
  }
});

test('a volume replay killed (-9) mid-way, then run again: the copy converges, resuming after the last commit', async () => {
  const { dir, cleanup } = tempDir('rill-volume-');
  try {
    const rnd = prng(11);
    const img = `${dir}/vm.img`;
    const size = 24 << 20;
    writeFileSync(img, '');
    resize(img, size);
    for (let at = 0; at < size; at += 1 << 20) writeAt(img, at, rnd(256 * 1024)); // 6 MiB of data spread out
    // A stream with a commit every 2 MiB of the volume (capture's default is every GiB).
    await loadHasher();
    const stream = `${dir}/full.rill`;
    const source = volumeCapture(openScanRoot(img), { chunkSize: 256 * 1024, blockSize: 65536, commitEvery: 2 << 20 });
    await encodeTo(stream, newHeader({ kind: 'volume', root: { path: img }, full: true }), async (enc) => {
      await writeEvents(source.events, enc);
    });
    const bytes = readFileSync(stream);
    const copy = `${dir}/copy.img`;
    // Feed about half the stream, wait until a commit was recorded, kill -9.
    const child = spawn(RILL, ['replay', copy], { stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code, signal) => resolve(signal === 'SIGKILL' ? -9 : code)));
    child.stdin.on('error', () => {});
    child.stdin.write(bytes.subarray(0, bytes.length >> 1));
    const stateFile = `${dir}/.copy.img.rill-state`;
    for (let i = 0; i < 200 && !existsSync(stateFile); i++) await new Promise((r) => setTimeout(r, 25));
    assert.ok(existsSync(stateFile), 'a commit was recorded before the kill');
    child.kill('SIGKILL');
    assert.equal(await exited, -9);
    const applied = (JSON.parse(readFileSync(stateFile, 'utf8')) as { lastSeq: number }).lastSeq;
    assert.ok(!readFileSync(copy).equals(readFileSync(img)), 'the copy is incomplete after the kill');
    const r = sh(`rill replay ${q(copy)} < ${q(stream)}`);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`skipped \\d+ events already applied \\(source .*, seq <= ${applied}`));
    assertSame(img, copy, 'after the rerun');
    // A third run finds everything applied: nothing changes.
    const again = sh(`rill replay ${q(copy)} < ${q(stream)}`);
    assert.equal(again.code, 0, again.stderr);
    assertSame(img, copy);

    // A change set that shrinks and grows the image, cut off after its truncate (the replay stops
    // before any commit, like a kill): the rerun still fits and converges.
    const state = `${dir}/vm.state`;
    assert.equal(sh(`rill capture --scan --state ${q(state)} ${q(img)} | rill replay ${q(`${dir}/c2.img`)}`).code, 0);
    resize(img, size - 100_000);
    writeAt(img, 5 << 20, rnd(70_000));
    const cs = `${dir}/change.rill`;
    assert.equal(sh(`rill capture --scan --state ${q(state)} ${q(img)} > ${q(cs)}`).code, 0);
    const events = dump(cs).events;
    assert.equal(events[1]!.type, 'truncate');
    const cut = sh(`rill dump --data ${q(cs)} | head -n 3 | rill undump | rill replay ${q(`${dir}/c2.img`)}`);
    assert.equal(cut.code, 3, cut.stderr);
    assert.equal(statSync(`${dir}/c2.img`).size, size - 100_000, 'the truncate was applied');
    const rerun = sh(`rill replay ${q(`${dir}/c2.img`)} < ${q(cs)}`);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.doesNotMatch(rerun.stderr, /ignoring the progress/);
    assertSame(img, `${dir}/c2.img`, 'after the cut-off change set and its rerun');
  } finally {
    cleanup();
  }
});

test('a volume stream holding a tree event or a path other than "" is refused (exit 3); --dry-run lists the changes and creates nothing', () => {
  const { dir, cleanup } = tempDir('rill-volume-');
  try {
    const header = '{"type":"header","magic":"rill","version":1,"source":"s1","node":"n","kind":"volume","created":"0","root":{"path":"/x.img"},"full":true}';
    const lines = (...events: string[]): string => `${[header, ...events, '{"type":"end"}'].join('\n')}\n`;
    const target = `${dir}/t.img`;
    for (const [event, why] of [
      ['{"type":"mkdir","seq":2,"path":"d","mode":493}', /mkdir event seq 2 has no meaning in a volume stream/],
      ['{"type":"write","seq":2,"path":"etc/passwd","offset":0,"data":"eA=="}', /write event seq 2 names "etc\/passwd": in a volume stream data events name the volume itself/],
    ] as const) {
      const stream = rill(['undump'], lines('{"type":"truncate","seq":1,"path":"","size":10}', event));
      assert.equal(stream.code, 0, stream.stderr);
      const r = rill(['replay', target], stream.stdout);
      assert.equal(r.code, 3, r.stderr);
      assert.match(r.stderr, why);
      assert.equal(existsSync(`${dir}/etc`), false);
    }
    writeFileSync(`${dir}/src.img`, Buffer.alloc(5000, 1));
    const stream = sh(`rill capture --scan ${q(`${dir}/src.img`)}`).stdout;
    const dry = rill(['replay', '--dry-run', `${dir}/new.img`], stream);
    assert.equal(dry.code, 0, dry.stderr);
    assert.deepEqual(dry.stdout.toString().trim().split('\n'), ['truncate "." size 5000', 'write "." offset 0 length 5000']);
    assert.equal(existsSync(`${dir}/new.img`), false);
    assert.equal(existsSync(`${dir}/.new.img.rill-state`), false);
  } finally {
    cleanup();
  }
});
