// `rill replay` as a user runs it: stream files and stdin, exit codes, one line on stderr, --dry-run on
// stdout, --verbose summary, and a kill -9 mid-file that a rerun repairs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';
import { encode, fixedHeader } from '../helpers/codec.js';
import type { Event, EventInput } from '../../src/stream/events.js';
import { temps } from './helpers.js';
import { RILL } from '../helpers/cli.js';

const ARGS = [RILL];

function rill(args: string[], input?: Buffer, asUser?: number): { status: number | null; stdout: string; stderr: string } {
  const r = asUser === undefined
    ? spawnSync(process.execPath, [...ARGS, ...args], { input, encoding: 'buffer' })
    : spawnSync('setpriv', [`--reuid=${asUser}`, `--regid=${asUser}`, '--clear-groups', process.execPath, ...ARGS, ...args], { input, encoding: 'buffer' });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

const numbered = (events: EventInput[]): Event[] => events.map((e, i) => ({ ...e, seq: i + 1 }) as Event);

const TREE: EventInput[] = [
  { type: 'mkdir', path: 'd', mode: 0o750 },
  { type: 'create', path: 'd/f', mode: 0o640 },
  { type: 'write', path: 'd/f', offset: 0, data: Buffer.from('hello\n') },
  { type: 'symlink', path: 'd/l', target: 'f' },
  { type: 'commit' },
];

test('replays a stream file and stdin; quiet unless --verbose, which prints one summary line', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 's.rill');
    writeFileSync(file, await encode(numbered(TREE)));
    const a = rill(['replay', join(dir, 'a'), file]);
    assert.deepEqual([a.status, a.stdout, a.stderr], [0, '', '']);
    assert.equal(readFileSync(join(dir, 'a/d/f'), 'utf8'), 'hello\n');
    const b = rill(['replay', '--verbose', join(dir, 'b')], readFileSync(file));
    assert.equal(b.status, 0);
    assert.match(b.stderr, /^rill replay: 5 events, 1 files, 6 bytes \(0\.0 MiB\), \d+\.\d\d s\n$/);
    assert.equal(readFileSync(join(dir, 'b/d/f'), 'utf8'), 'hello\n');
  } finally {
    cleanup();
  }
});

test('exit 3 on a truncated stream, 4 on a hostile one: one line naming the input or the path', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const bytes = await encode(numbered(TREE));
    const cut = rill(['replay', join(dir, 'cut')], bytes.subarray(0, bytes.length - 3));
    assert.equal(cut.status, 3);
    assert.match(cut.stderr, /^rill replay: stdin, byte \d+.*truncated.*\n$/);
    assert.deepEqual(temps(join(dir, 'cut')), []);
    // Not a full stream: in one, entries below a symlink are out of scan order (exit 3) before confinement is asked.
    const evil = await encode(numbered([{ type: 'symlink', path: 'a', target: '/' }, { type: 'create', path: 'a/pwned', mode: 0o644 }]), {}, { ...fixedHeader, full: undefined });
    const refused = rill(['replay', join(dir, 'evil')], evil);
    assert.equal(refused.status, 4);
    assert.match(refused.stderr, /^rill replay: refused path "a\/pwned": "a" is a symbolic link in the replica.*\n$/);
    assert.equal(existsSync('/pwned'), false);
  } finally {
    cleanup();
  }
});

test('--dry-run lists changes on stdout and does not create ROOT', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const r = rill(['replay', '--dry-run', join(dir, 'none')], await encode(numbered(TREE)));
    assert.equal(r.status, 0);
    assert.equal(r.stdout, 'mkdir "d" mode 0750\ncreate "d/f" mode 0640\nwrite "d/f" offset 0 length 6\nsymlink "d/l" -> "f"\n');
    assert.equal(existsSync(join(dir, 'none')), false);
  } finally {
    cleanup();
  }
});

test('kill -9 while a new file streams in: no file under its name; a rerun converges and cleans the temp', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'r');
    const events: EventInput[] = [...TREE, { type: 'create', path: 'big', mode: 0o644 }];
    for (let i = 0; i < 64; i++) events.push({ type: 'write', path: 'big', offset: i * 65536, data: Buffer.alloc(65536, i) });
    events.push({ type: 'commit' });
    const bytes = await encode(numbered(events), { frameBytes: 65536 });
    const child = spawn(process.execPath, [...ARGS, 'replay', root], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.stdin.on('error', () => {});
    child.stdin.write(bytes.subarray(0, bytes.length >> 1)); // half the stream, and the pipe stays open
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      // Not the state file's own temp, nor d/f's (built and renamed in a moment): big's, once it holds data.
      const sizeOf = (n: string): number => {
        try {
          return lstatSync(join(root, '.rill', 'tmp', n)).size;
        } catch {
          return 0;
        }
      };
      const building = () => temps(root).filter((n) => !n.endsWith('.state') && sizeOf(n) >= 65536);
      for (let i = 0; i < 800 && building().length === 0; i++) await sleep(25);
      assert.equal(building().length, 1, 'the new file is being built in .rill/tmp');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    assert.equal(existsSync(join(root, 'big')), false);
    assert.equal(readFileSync(join(root, 'd/f'), 'utf8'), 'hello\n');
    const file = join(dir, 's.rill');
    writeFileSync(file, bytes);
    const again = rill(['replay', root, file]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(readFileSync(join(root, 'big')).length, 64 * 65536);
    assert.equal(readFileSync(join(root, 'big'))[65536 * 63], 63);
    assert.deepEqual(temps(root), []);
    assert.deepEqual(readdirSync(root).sort(), ['.rill', 'big', 'd']);
  } finally {
    cleanup();
  }
});

test('rill replay --help and man/rill-replay.1 name the same options', () => {
  const help = rill(['replay', '--help']);
  assert.equal(help.status, 0);
  const fromHelp = new Set([...help.stdout.matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!));
  fromHelp.delete('help');
  fromHelp.delete('version');
  const man = readFileSync(new URL('../../man/rill-replay.1', import.meta.url), 'utf8');
  const fromMan = new Set([...man.matchAll(/\\-\\-([a-z][a-z\\-]*[a-z])/g)].map((m) => m[1]!.replaceAll('\\-', '-')));
  assert.deepEqual([...fromHelp].sort(), [...fromMan].sort());
  assert.ok(fromHelp.has('dry-run') && fromHelp.has('no-owner') && fromHelp.has('fsync'));
});

test('not root: chown events are skipped with one note; a 0555 directory is still filled, then gets its mode', async (t) => {
  const probe = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'true']);
  if (!requireCapability(t, isRoot && probe.status === 0, 'root and setpriv')) return;
  const { dir, cleanup } = tempDir();
  try {
    chmodSync(dir, 0o777);
    const root = join(dir, 'r');
    const stream = await encode(numbered([
      { type: 'mkdir', path: 'ro', mode: 0o555 },
      { type: 'create', path: 'ro/f', mode: 0o444 },
      { type: 'chown', path: 'ro/f', uid: 0, gid: 0 },
      { type: 'chown', path: 'ro', uid: 0, gid: 0 },
    ]));
    const r = rill(['replay', root], stream, 65534);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr.match(/not running as root, so ownership is not applied/g)?.length, 1);
    assert.equal(lstatSync(join(root, 'ro')).mode & 0o7777, 0o555);
    assert.equal(lstatSync(join(root, 'ro/f')).uid, 65534);
  } finally {
    cleanup();
  }
});
