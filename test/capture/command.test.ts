// rill capture as a user runs it: flags, exit codes, messages, and the stream it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, readdirSync, readFileSync } from 'node:fs';
import { scanEvents } from '../../src/capture/scan.js';
import type { Event, Header, StreamRecord } from '../../src/stream/events.js';
import { decode } from '../helpers/codec.js';
import { makeTree, tempDir, isRoot, requireCapability } from '../helpers/tree.js';
import { futureAtime } from './helpers.js';
import { REPO, rill, rillArgv, rillClosedEarly } from './run-cli.js';

function sampleTree(t: { after: (fn: () => void) => void }): { dir: string; root: string } {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const root = `${dir}/t`;
  const atime = futureAtime(); // scanning twice must not move the atimes of directories and symlinks
  const mtime = 1_600_000_000_000_000_000n;
  makeTree(
    root,
    [
      { type: 'dir', path: 'd' },
      { type: 'file', path: 'd/f', content: 'hello' },
      { type: 'file', path: 'keep.tmp', content: 'k' },
      { type: 'file', path: 'x.tmp', content: 'x' },
      { type: 'file', path: 'big', content: Buffer.alloc(300_000, 5) },
      { type: 'symlink', path: 'l', target: 'd/f' },
    ],
    [{ path: 'd', atime, mtime }, { path: 'l', atime, mtime }, { path: '', atime, mtime }],
  );
  return { dir, root };
}

const events = (records: StreamRecord[]): Event[] => records.filter((r): r is Event => r.type !== 'header' && r.type !== 'end');
const paths = (records: StreamRecord[]): string[] => events(records).flatMap((e) => (e.type === 'create' ? [e.path] : []));

test('--output FILE: a complete stream whose header names the root and whose events are the scan', async (t) => {
  const { dir, root } = sampleTree(t);
  const out = `${dir}/out.rill`;
  const r = rill(['capture', '--scan', root, '--output', out, '--node', 'n7', '--source', 'src-1']);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stderr, '', 'a clean scan is quiet');
  assert.equal(r.stdout.length, 0, 'nothing on stdout');
  const records = await decode(readFileSync(out));
  const header = records[0] as Header;
  assert.equal(header.type, 'header');
  assert.deepEqual([header.kind, header.node, header.source, header.full, header.root.path], ['tree', 'n7', 'src-1', true, root]);
  assert.equal(typeof header.root.ino, 'number');
  assert.equal(records.at(-1)!.type, 'end');
  const expected = [...scanEvents(root)];
  assert.deepEqual(events(records).map(({ seq, ...rest }) => rest), expected);
  assert.deepEqual(events(records).map((e) => e.seq), expected.map((_, i) => i + 1));
  assert.deepEqual(readdirSync(dir).sort(), ['out.rill', 't'], 'no temporary file left behind');
});

test('stdout: the same stream; --chunk-size bounds write payloads', async (t) => {
  const { root } = sampleTree(t);
  const r = rill(['capture', '--scan', '--chunk-size', '64K', root]);
  assert.equal(r.status, 0, r.stderr);
  const writes = events(await decode(r.stdout)).filter((e) => e.type === 'write');
  assert.ok(writes.length >= 5);
  for (const w of writes) assert.ok(w.type === 'write' && w.data.length <= 65536);
});

test('large files through reused read buffers: every byte arrives intact', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  const files = [1, 2, 3].map((k) => {
    const data = Buffer.alloc(1024 * 1024 + 123 * k);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE((i * 2654435761 + k) >>> 0, Math.min(i, data.length - 4));
    return { type: 'file' as const, path: `f${k}`, content: data };
  });
  makeTree(`${dir}/t`, files);
  const r = rill(['capture', '--scan', '--chunk-size', '64K', `${dir}/t`]);
  assert.equal(r.status, 0, r.stderr);
  const got = new Map<string, Buffer>();
  for (const e of events(await decode(r.stdout))) {
    if (e.type !== 'write') continue;
    const buf = got.get(e.path) ?? Buffer.alloc(0);
    assert.equal(e.offset, buf.length, 'writes in order, no gaps');
    got.set(e.path, Buffer.concat([buf, e.data]));
  }
  for (const f of files) assert.ok(got.get(f.path)!.equals(f.content), `${f.path} differs`);
});

test('every option of --help (but the global --version) is described in man/rill-capture.1', () => {
  const help = rill(['capture', '--help']);
  assert.equal(help.status, 0);
  const flags = [...String(help.stdout).matchAll(/--([a-z][a-z-]+)/g)].map((m) => m[1]!);
  assert.ok(flags.length >= 14, flags.join(' '));
  const man = readFileSync(`${REPO}/man/rill-capture.1`, 'utf8').replaceAll('\\-', '-');
  for (const flag of new Set(flags)) if (flag !== 'version') assert.ok(man.includes(`--${flag}`), `--${flag} is missing from the man page`);
});

test('--include/--exclude apply in command-line order, whatever the option kinds', async (t) => {
  const { root } = sampleTree(t);
  const a = rill(['capture', '--scan', '--include', 'keep.tmp', '--exclude=*.tmp', root]);
  assert.equal(a.status, 0, a.stderr);
  assert.deepEqual(paths(await decode(a.stdout)), ['big', 'd/f', 'keep.tmp']);
  const b = rill(['capture', '--scan', '--exclude=*.tmp', '--include', 'keep.tmp', root]);
  assert.deepEqual(paths(await decode(b.stdout)), ['big', 'd/f']);
  const c = rill(['capture', '--scan', '--exclude', '/d/', root]);
  assert.deepEqual(paths(await decode(c.stdout)), ['big', 'keep.tmp', 'x.tmp']);
});

for (const [flag, ...rest] of [['--watch'], ['--journal', '/tmp/j']]) {
  test(`${flag} is registered but not built: exit 6 naming it and a later issue`, (t) => {
    const { root } = sampleTree(t);
    const r = rill(['capture', '--scan', flag!, ...rest, root]);
    assert.equal(r.status, 6, r.stderr);
    assert.match(r.stderr, new RegExp(`${flag}.*not built yet.*issue`));
    assert.equal(r.stdout.length, 0);
  });
}

const USAGE: [string, string[], number, RegExp][] = [
  ['no mode', ['capture', '/tmp'], 2, /--scan/],
  ['no root', ['capture', '--scan'], 2, /name the directory/],
  ['a bad --chunk-size', ['capture', '--scan', '--chunk-size', 'lots', '/tmp'], 2, /--chunk-size "lots"/],
  ['a zero --chunk-size', ['capture', '--scan', '--chunk-size', '0', '/tmp'], 2, /--chunk-size/],
  ['an unknown option', ['capture', '--scan', '--frobnicate', '/tmp'], 2, /frobnicate/],
  ['a missing root', ['capture', '--scan', '/nonexistent/rill-root'], 5, /"\/nonexistent\/rill-root" does not exist/],
  ['a character device as root', ['capture', '--scan', '/dev/null'], 2, /not a directory/],
  ['--scan with --mount', ['capture', '--scan', '--mount', '/tmp'], 2, /--scan and --mount .* choose one/],
  ['--control without --mount', ['capture', '--scan', '--control', '/tmp/s.sock', '/tmp'], 2, /--control needs --mount/],
  ['--mount on a file', ['capture', '--mount', '/dev/null'], 2, /--mount needs a directory/],
];

for (const [title, args, status, message] of USAGE) {
  test(`${title}: exit ${status} with one clear line, no stream`, () => {
    const r = rill(args);
    assert.equal(r.status, status, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stdout.length, 0);
  });
}

test('stdout on a terminal: refused with a hint, exit 2', (t) => {
  const hasScript = spawnSync('script', ['--version']).status === 0;
  if (!requireCapability(t, hasScript, "script(1) (Debian package 'bsdutils') to run under a terminal")) return;
  const { root } = sampleTree(t);
  const cmd = [process.execPath, ...rillArgv(['capture', '--scan', root])].map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(' ');
  const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: REPO, encoding: 'utf8' });
  assert.equal(r.status, 2, r.stdout);
  assert.match(r.stdout, /refusing to write a binary stream to a terminal.*--output FILE/);
});

test('--output into a missing directory: exit 5 naming it', (t) => {
  const { dir, root } = sampleTree(t);
  const r = rill(['capture', '--scan', root, '-o', `${dir}/no/such/dir/out.rill`]);
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /no\/such\/dir/);
});

test('a reader that goes away early: quiet exit 141', async (t) => {
  const { root } = sampleTree(t);
  makeTree(`${root}/more`, [{ type: 'file', path: 'huge', content: Buffer.alloc(8 * 1024 * 1024, 1) }]);
  const r = await rillClosedEarly(['capture', '--scan', root], 1000);
  assert.equal(r.status, 141, r.stderr);
  assert.equal(r.stderr, '');
});

test('unreadable entries: warnings, a complete stream without them, exit 5 with a count', async (t) => {
  const { dir, root } = sampleTree(t);
  chmodSync(dir, 0o755);
  chmodSync(`${root}/d/f`, 0o000);
  const probe = rill(['--version'], { uid: 65534, gid: 65534 });
  if (!isRoot || probe.status !== 0) {
    t.skip(`needs root and a checkout readable by uid 65534 (${probe.stderr.trim().split('\n')[0] ?? ''})`);
    return;
  }
  const r = rill(['capture', '--scan', root], { uid: 65534, gid: 65534 });
  assert.equal(r.status, 5, r.stderr);
  assert.match(r.stderr, /warning: "d\/f": could not be read \(EACCES/);
  assert.match(r.stderr, /1 entry could not be read/);
  const records = await decode(r.stdout);
  assert.equal(records.at(-1)!.type, 'end', 'the stream is complete');
  assert.ok(events(records).some((e) => e.type === 'note' && e.code === 'unreadable' && e.path === 'd/f'));
  assert.ok(!paths(records).includes('d/f'));

  chmodSync(`${root}/d`, 0o700);
  const locked = rill(['capture', '--scan', `${root}/d`], { uid: 65534, gid: 65534 });
  assert.equal(locked.status, 5, locked.stderr);
  assert.match(locked.stderr, /capture root ".*\/d" cannot be listed \(EACCES\)/);
  assert.equal(locked.stdout.length, 0, 'refused before any byte was written');
});
