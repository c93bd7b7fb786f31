// End to end, as a user runs it: capture --scan | replay, then verify, on real trees of every kind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lstatSync, readdirSync, existsSync } from 'node:fs';
import fc from 'fast-check';
import { makeTree, tempDir, isRoot, requireCapability, type EntrySpec, type MetaSpec } from '../helpers/tree.js';
import { rill, sh, q } from '../helpers/cli.js';
import { treeArb } from '../helpers/random-tree.js';

const MiB = 1024 * 1024;

/** Every kind of entry the issue lists, with awkward names. */
export const RICH: { entries: EntrySpec[]; meta: MetaSpec[] } = {
  entries: [
    { type: 'dir', path: 'docs', mode: 0o750 },
    { type: 'file', path: 'docs/readme.txt', content: 'hello\n' },
    { type: 'file', path: 'docs/empty', content: '' },
    { type: 'dir', path: 'docs/ro', mode: 0o555 },
    { type: 'file', path: 'docs/ro/locked', content: 'x', mode: 0o400 },
    { type: 'file', path: 'caf\udce9 latin1', content: 'not utf-8 name' },
    { type: 'file', path: 'line\nbreak', content: 'newline in name' },
    { type: 'file', path: 'sparse.img', extents: [{ offset: 0, data: Buffer.alloc(4096, 1) }, { offset: 3 * MiB, data: Buffer.alloc(8192, 2) }], size: 8 * MiB },
    { type: 'file', path: 'big.bin', content: Buffer.alloc(3 * MiB + 17, 7) },
    { type: 'file', path: 'setuid', content: '#!/bin/sh\n', mode: 0o4755 },
    { type: 'link', path: 'docs/hardlink', target: 'docs/readme.txt' },
    { type: 'symlink', path: 'rel-link', target: 'docs/readme.txt' },
    { type: 'symlink', path: 'abs-link', target: '/etc/passwd' },
    { type: 'symlink', path: 'dangling', target: 'nowhere/\udcff' },
    { type: 'fifo', path: 'pipe' },
    { type: 'chardev', path: 'null-dev', rdev: 0x0103 },
  ],
  meta: [
    { path: 'docs/readme.txt', uid: 1000, gid: 1000, mtime: 1_600_000_000_123_456_789n, xattrs: { 'user.note': 'kept', 'trusted.t': Buffer.from([0, 1, 2]) } },
    { path: 'setuid', uid: 1000, gid: 100 },
    { path: 'rel-link', uid: 1000, gid: 1000, mtime: 1_500_000_000_000_000_001n },
    { path: 'docs/ro', mtime: 1_400_000_000_999_999_999n },
    { path: 'docs', uid: 1000, gid: 1000, mtime: 1_300_000_000_000_000_007n, xattrs: { 'user.dir': 'yes' } },
    { path: '', mtime: 1_200_000_000_000_000_000n },
  ],
};

test('capture --scan | replay copies every kind of entry exactly', (t) => {
  if (!requireCapability(t, isRoot, 'root (device nodes, ownership)')) return;
  const { dir, cleanup } = tempDir();
  try {
    const src = `${dir}/src`;
    const dst = `${dir}/dst`;
    makeTree(src, RICH.entries, RICH.meta);
    const r = sh(`rill capture --scan ${q(src)} | rill replay ${q(dst)}`);
    assert.equal(r.code, 0, r.stderr);
    const v = rill(['verify', src, dst]);
    assert.equal(v.code, 0, `verify: ${v.stdout}${v.stderr}`);
    // Spot checks independent of rill verify.
    assert.equal(lstatSync(`${dst}/docs/readme.txt`, { bigint: true }).mtimeNs, 1_600_000_000_123_456_789n);
    assert.equal(lstatSync(`${dst}/docs/readme.txt`).ino, lstatSync(`${dst}/docs/hardlink`).ino);
    assert.equal(lstatSync(`${dst}/setuid`).mode & 0o7777, 0o4755);
    assert.ok(lstatSync(`${dst}/sparse.img`).blocks * 512 < 1 * MiB, 'sparse file stayed sparse');
    assert.ok(readdirSync(dst, { encoding: 'buffer' }).some((n) => n.equals(Buffer.from('caf\xe9 latin1', 'latin1'))));
  } finally {
    cleanup();
  }
});

test('a stream survives a file, dump --data and undump unchanged', (t) => {
  if (!requireCapability(t, isRoot, 'root (device nodes, ownership)')) return;
  const { dir, cleanup } = tempDir();
  try {
    makeTree(`${dir}/src`, RICH.entries, RICH.meta);
    const r = sh(`cd ${q(dir)} && rill capture --scan src > full.rill && rill dump --data full.rill > a.jsonl && rill undump < a.jsonl > again.rill && rill dump --data again.rill > b.jsonl && cmp a.jsonl b.jsonl && rill replay dst again.rill && rill verify src dst`);
    assert.equal(r.code, 0, r.stderr + r.stdout.toString());
    const w = sh(`cd ${q(dir)} && rill dump full.rill | jq -c 'select(.type=="write") | .path' | head -3`);
    assert.equal(w.code, 0, w.stderr);
    assert.ok(w.stdout.toString().split('\n').filter(Boolean).length >= 3);
  } finally {
    cleanup();
  }
});

test('random trees round-trip through capture | replay', (t) => {
  if (!requireCapability(t, isRoot, 'root (ownership, trusted xattrs)')) return;
  const { dir, cleanup } = tempDir();
  let n = 0;
  try {
    fc.assert(
      fc.property(treeArb, (tree) => {
        const src = `${dir}/src${n}`;
        const dst = `${dir}/dst${n++}`;
        makeTree(src, tree.entries, tree.meta);
        const r = sh(`rill capture --scan ${q(src)} | rill replay ${q(dst)}`);
        assert.equal(r.code, 0, r.stderr);
        const v = rill(['verify', src, dst]);
        assert.equal(v.code, 0, `verify found: ${v.stdout}${v.stderr}`);
        sh(`rm -rf ${q(src)} ${q(dst)}`);
      }),
      { numRuns: process.env.CI ? 40 : 15 },
    );
  } finally {
    cleanup();
  }
});

test('replaying onto an up-to-date copy again changes nothing', (t) => {
  if (!requireCapability(t, isRoot, 'root')) return;
  const { dir, cleanup } = tempDir();
  try {
    makeTree(`${dir}/src`, RICH.entries, RICH.meta);
    const r = sh(`cd ${q(dir)} && rill capture --scan src > s.rill && rill replay dst < s.rill && rill replay dst < s.rill && rill verify src dst`);
    assert.equal(r.code, 0, r.stderr + r.stdout.toString());
  } finally {
    cleanup();
  }
});

test('a slow reader downstream: capture reuses its read buffers only after they were written out', () => {
  const { dir, cleanup } = tempDir();
  try {
    // Every 4 KiB of every file differs, so a buffer reused too early would show as wrong bytes.
    const entries: EntrySpec[] = Array.from({ length: 6 }, (_, f) => {
      const data = Buffer.alloc(3 * MiB + f * 1000);
      for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((f * 0x1000000 + i) >>> 0, i);
      return { type: 'file' as const, path: `f${f}`, content: data };
    });
    makeTree(`${dir}/src`, entries);
    const throttle = `python3 -c 'import sys,time\nwhile True:\n d=sys.stdin.buffer.read(65536)\n if not d: break\n sys.stdout.buffer.write(d); time.sleep(0.002)'`;
    const r = sh(`rill capture --scan ${q(dir)}/src | ${throttle} | rill replay ${q(dir)}/dst && rill verify ${q(dir)}/src ${q(dir)}/dst`);
    assert.equal(r.code, 0, r.stderr + r.stdout.toString());
    const viaFile = sh(`rill capture --scan -o ${q(dir)}/s.rill ${q(dir)}/src && rill replay ${q(dir)}/dst2 ${q(dir)}/s.rill && rill verify ${q(dir)}/src ${q(dir)}/dst2`);
    assert.equal(viaFile.code, 0, viaFile.stderr + viaFile.stdout.toString());
  } finally {
    cleanup();
  }
});

test('a damaged stream stops replay at the damage: exit 3, position named, no partial file', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(`${dir}/src`, [
      { type: 'file', path: 'a', content: Buffer.alloc(600_000, 1) },
      { type: 'file', path: 'b', content: Buffer.alloc(600_000, 2) },
      { type: 'file', path: 'c', content: Buffer.alloc(600_000, 3) },
    ]);
    assert.equal(sh(`rill capture --scan ${q(dir)}/src > ${q(dir)}/s.rill`).code, 0);
    // Flip one byte in the middle of the stream (inside b's data).
    const r = sh(`cd ${q(dir)} && size=$(stat -c %s s.rill) && cp s.rill bad.rill && printf '\\x55' | dd of=bad.rill bs=1 seek=$((size / 2)) conv=notrunc status=none && rill replay dst bad.rill`);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^rill replay: bad\.rill, byte \d+, record \d+: corrupt frame: CRC mismatch/m);
    assert.ok(!existsSync(`${dir}/dst/c`), 'nothing past the damage was applied');
    if (existsSync(`${dir}/dst/b`)) assert.fail('a half-written file must not appear at its final name');
    const tmp = `${dir}/dst/.rill/tmp`;
    assert.deepEqual(existsSync(tmp) ? readdirSync(tmp) : [], [], 'no temporary file left behind');
    // A truncated copy of the stream.
    const cut = sh(`cd ${q(dir)} && head -c 1000000 s.rill | rill replay dst2`);
    assert.equal(cut.code, 3);
    assert.match(cut.stderr, /stdin, byte \d+, record \d+: truncated/);
  } finally {
    cleanup();
  }
});

test('a hostile stream cannot reach outside the replica', (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const lines = (events: object[]): string =>
      [{ type: 'header', magic: 'rill', version: 1, source: 's', node: 'n', kind: 'tree', created: '0', root: { path: '/' } }, ...events, { type: 'end', count: 0 }]
        .map((e) => JSON.stringify(e))
        .join('\n');
    sh(`mkdir -p ${q(dir)}/outside && echo keep > ${q(dir)}/outside/file`);
    const attacks: [string, object[]][] = [
      ['symlink then write through it', [{ type: 'symlink', seq: 1, path: 'esc', target: `${dir}/outside` }, { type: 'create', seq: 2, path: 'esc/file', mode: 420 }, { type: 'write', seq: 3, path: 'esc/file', offset: 0, data: 'cHduZWQ=' }]],
      ['symlink to .. then chmod through it', [{ type: 'symlink', seq: 1, path: 'up', target: '..' }, { type: 'chmod', seq: 2, path: 'up/outside', mode: 511 }]],
      ['write into rill state', [{ type: 'mkdir', seq: 1, path: '.rill', mode: 493 }]],
    ];
    for (const [i, [name, events]] of attacks.entries()) {
      // One replica each: the streams share a source id and seqs, so one replica would skip what another applied.
      const r = sh(`printf '%s\\n' ${q(lines(events))} | rill undump | rill replay ${q(dir)}/replica${i}`);
      assert.equal(r.code, 4, `${name}: ${r.stderr}`);
      assert.match(r.stderr, /^rill replay: /);
      assert.equal(sh(`cat ${q(dir)}/outside/file`).stdout.toString(), 'keep\n', name);
      assert.equal(lstatSync(`${dir}/outside`).mode & 0o777, 0o755, name);
    }
    // Paths with '..' or a leading '/' never get past the decoder (undump validates like a decoder).
    const dotdot = sh(`printf '%s\\n' ${q(lines([{ type: 'mkdir', seq: 1, path: '../x', mode: 493 }]))} | rill undump`);
    assert.equal(dotdot.code, 3);
    assert.match(dotdot.stderr, /line 2: .*'\.\.' path component/);
  } finally {
    cleanup();
  }
});
