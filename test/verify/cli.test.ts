// `rill verify` as a user runs it (bin/rill → dist/, so `npm run build` first): exit codes 0/1/2,
// text and --json output, --quiet, the --no-* switches, and one-line errors.
import { test, before, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { RILL } from '../helpers/cli.js';
import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { makeTree, tempDir, isRoot, type EntrySpec, type MetaSpec } from '../helpers/tree.js';

const BIN = RILL;
const BUILT = fileURLToPath(new URL('../../dist/commands/verify.js', import.meta.url));
const T = 1732500000123456789n;

before(() => {
  assert.ok(existsSync(BUILT) && !readFileSync(BUILT, 'utf8').includes('notBuilt'), 'dist/ is stale: run `npm run build` first');
});

function rill(args: string[], options: SpawnSyncOptions = {}): { code: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', ...options });
  return { code: r.status, stdout: String(r.stdout), stderr: String(r.stderr) };
}

const stamped = (entries: EntrySpec[], extra: MetaSpec[] = []): MetaSpec[] => [
  ...entries.filter((e) => e.type !== 'link').map((e) => ({ path: e.path, mtime: T })),
  ...extra,
  { path: '', mtime: T },
];

const BASE: EntrySpec[] = [
  { type: 'dir', path: 'd' },
  { type: 'file', path: 'd/f', content: 'hello' },
  { type: 'file', path: 'caf\udce9', content: 'x' },
  { type: 'symlink', path: 'l', target: 'd/f' },
];

/** Two trees from BASE; `extraB` and `metaB` add entries and metadata to B only. */
function pair(t: TestContext, extraB: EntrySpec[] = [], metaB: MetaSpec[] = []): { a: string; b: string; dir: string } {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/a`, BASE, stamped(BASE));
  makeTree(`${dir}/b`, [...BASE, ...extraB], stamped([...BASE, ...extraB], metaB));
  return { a: `${dir}/a`, b: `${dir}/b`, dir };
}

test('identical trees: exit 0, nothing on stdout, the summary on stderr', (t) => {
  const { a, b } = pair(t);
  assert.deepEqual(rill(['verify', a, b]), { code: 0, stdout: '', stderr: 'identical: 5 entries, 6 bytes\n' });
});

test('different trees: exit 1, one line per difference, a count on stderr', (t) => {
  const { a, b } = pair(t, [{ type: 'file', path: 'new\nfile', content: '' }], [{ path: 'caf\udce9', mtime: T + 1n }]);
  assert.deepEqual(rill(['verify', a, b]), {
    code: 1,
    stdout: `mtime "caf\\xe9": ${T} != ${T + 1n}\nonly in B "new\\nfile"\n`,
    stderr: '2 differences in 6 entries\n',
  });
});

test('--json: one object per line, raw names as base64, ns as strings, a summary last', (t) => {
  const { a, b } = pair(t, [], [{ path: 'caf\udce9', mtime: T + 1n, xattrs: { 'user.x': 'y' } }]);
  const r = rill(['verify', '--json', a, b]);
  assert.equal(r.code, 1);
  assert.equal(r.stderr, '');
  assert.deepEqual(r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l)), [
    { kind: 'mtime', path: { base64: 'Y2Fm6Q==' }, a: String(T), b: String(T + 1n) },
    { kind: 'xattr', path: { base64: 'Y2Fm6Q==' }, name: 'user.x', a: null, b: 'y' },
    { kind: 'summary', identical: false, differences: 2, entries: 5, bytes: 6 },
  ]);
});

test('--quiet: no output at all, the exit code says it', (t) => {
  const same = pair(t);
  assert.deepEqual(rill(['verify', '-q', same.a, same.b]), { code: 0, stdout: '', stderr: '' });
  const { a, b } = pair(t, [{ type: 'dir', path: 'extra' }]);
  assert.deepEqual(rill(['verify', '--quiet', a, b]), { code: 1, stdout: '', stderr: '' });
});

test('--no-owner --no-times --no-xattrs --no-sparse skip what they name', (t) => {
  const meta: MetaSpec[] = [{ path: 'd/f', mtime: T - 1n, xattrs: { 'user.k': 'v' }, ...(isRoot ? { uid: 7, gid: 7 } : {}) }];
  const { a, b } = pair(t, [{ type: 'file', path: 'z', size: 8192 }], meta);
  makeTree(a, [{ type: 'file', path: 'z', content: Buffer.alloc(8192) }], stamped([{ type: 'file', path: 'z' }]));
  const all = rill(['verify', a, b]);
  assert.equal(all.code, 1);
  assert.deepEqual(all.stdout.split('\n'), [
    ...(isRoot ? ['owner "d/f": 0:0 != 7:7'] : []),
    `mtime "d/f": ${T} != ${T - 1n}`,
    'xattr "d/f": "user.k" only in B',
    'sparse "z": data [0,8192) != none',
    '',
  ]);
  assert.deepEqual(rill(['verify', '--no-owner', '--no-times', '--no-xattrs', '--no-sparse', a, b]), {
    code: 0,
    stdout: '',
    stderr: 'identical: 6 entries, 8198 bytes\n',
  });
});

test('a missing A: exit 2 and one line naming it', (t) => {
  const { b, dir } = pair(t);
  const r = rill(['verify', `${dir}/nope`, b]);
  assert.deepEqual(r, { code: 2, stdout: '', stderr: `rill verify: cannot read A "${dir}/nope": no such file or directory (ENOENT)\n` });
});

test('usage errors exit 2: a missing operand, an unknown flag, a bad --jobs', (t) => {
  const { a, b } = pair(t);
  assert.equal(rill(['verify', a]).code, 2);
  assert.equal(rill(['verify', '--bogus', a, b]).code, 2);
  const r = rill(['verify', '--jobs', '0', a, b]);
  assert.deepEqual([r.code, r.stderr], [2, "rill verify: --jobs must be a whole number of at least 1, not '0'\n"]);
});

test('an unreadable directory inside B: exit 2 naming it (run as nobody when root)', (t) => {
  const { a, b, dir } = pair(t, [], []);
  chmodSync(dir, 0o755);
  chmodSync(`${b}/d`, 0o700);
  makeTree(b, [], [{ path: 'd', uid: 0, mtime: T }]);
  const r = rill(['verify', '--no-owner', a, b], isRoot ? { uid: 65534, gid: 65534 } : {});
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^rill verify: cannot list directory "d" in B \(".*\/b"\): permission denied \(EACCES\); run verify as a user who can read both trees \(e\.g\. root\)\n$/);
});

test('a user who may not use O_NOATIME still compares root-owned files (run as nobody when root)', (t) => {
  const entries: EntrySpec[] = [{ type: 'file', path: 'small', content: 'x' }, { type: 'file', path: 'large', content: Buffer.alloc(2 << 20, 1) }];
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  chmodSync(dir, 0o755);
  makeTree(`${dir}/a`, entries, stamped(entries));
  makeTree(`${dir}/b`, entries, stamped(entries));
  const r = rill(['verify', `${dir}/a`, `${dir}/b`], isRoot ? { uid: 65534, gid: 65534 } : {});
  assert.deepEqual(r, { code: 0, stdout: '', stderr: `identical: 3 entries, ${(2 << 20) + 1} bytes\n` });
});

test('--help names every switch the man page documents', () => {
  const help = rill(['verify', '--help']);
  assert.equal(help.code, 0);
  const page = readFileSync(fileURLToPath(new URL('../../man/rill-verify.1', import.meta.url)), 'utf8');
  for (const flag of ['--json', '--quiet', '--owner', '--times', '--atime', '--xattrs', '--sparse', '--jobs']) {
    assert.ok(help.stdout.includes(flag), `--help lists ${flag}`);
    assert.ok(page.includes(flag.replaceAll('-', '\\-')), `man page documents ${flag}`);
  }
});
