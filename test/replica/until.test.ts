// replay --until NAME: stops right after the bookmark with the replica exactly there (exit 0),
// resumable beyond it later; exit 1 when the input ends first; --last; a replica already at or past it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rill, sh, q } from '../helpers/cli.js';
import { encode, fixedHeader } from '../helpers/codec.js';
import { makeTree, tempDir } from '../helpers/tree.js';
import type { Event, EventInput } from '../../src/stream/events.js';
import { snapshot } from './helpers.js';

const numbered = (events: EventInput[]): Event[] => events.map((e, i) => ({ ...e, seq: i + 1 }) as Event);
const W = 1_700_000_000_000_000_000n;

/** One stream: a/f is v1 at b1 (seq 4), v2 with g at b2 (seq 8), g gone at the second b1 (seq 11), z after. */
const EVENTS = numbered([
  { type: 'mkdir', path: 'a', mode: 0o755 },
  { type: 'create', path: 'a/f', mode: 0o644 },
  { type: 'write', path: 'a/f', offset: 0, data: Buffer.from('v1') },
  { type: 'bookmark', name: 'b1', wall: W, consistent: true }, // 4
  { type: 'truncate', path: 'a/f', size: 0 },
  { type: 'write', path: 'a/f', offset: 0, data: Buffer.from('v2') },
  { type: 'create', path: 'g', mode: 0o600 },
  { type: 'bookmark', name: 'b2', wall: W + 1n, consistent: true }, // 8
  { type: 'unlink', path: 'g' },
  { type: 'commit' },
  { type: 'bookmark', name: 'b1', wall: W + 2n, consistent: true }, // 11
  { type: 'mkdir', path: 'z', mode: 0o755 },
  { type: 'commit' },
]);

const HEADER = { ...fixedHeader, full: undefined };

async function fixture(): Promise<{ dir: string; file: string; cleanup: () => void }> {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 's.rill');
  writeFileSync(file, await encode(EVENTS, {}, HEADER));
  return { dir, file, cleanup };
}

const stateSeq = (root: string): number => (JSON.parse(readFileSync(join(root, '.rill/state.json'), 'utf8')) as { lastSeq: number }).lastSeq;

test('--until stops right after the first bookmark of that name, exactly there; a later replay goes on from it', async () => {
  const { dir, file, cleanup } = await fixture();
  try {
    const root = join(dir, 'r');
    const r = rill(['replay', '--verbose', '--until', 'b1', root, file]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /stopped at bookmark "b1" \(seq 4\)/);
    assert.equal(readFileSync(join(root, 'a/f'), 'utf8'), 'v1');
    assert.equal(existsSync(join(root, 'g')), false);
    assert.equal(stateSeq(root), 4);
    // The same again: already there, nothing changes.
    const before = tree(root);
    const again = rill(['replay', '--until', 'b1', root, file]);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(tree(root), before);
    // On to b2, then to the end, from stdin.
    assert.equal(rill(['replay', '--until', 'b2', root], readFileSync(file)).code, 0);
    assert.equal(readFileSync(join(root, 'a/f'), 'utf8'), 'v2');
    assert.ok(existsSync(join(root, 'g')));
    assert.equal(stateSeq(root), 8);
    const rest = rill(['replay', root, file]);
    assert.equal(rest.code, 0, rest.stderr);
    assert.equal(existsSync(join(root, 'g')), false);
    assert.ok(existsSync(join(root, 'z')));
    // The replica now matches one replayed in one go.
    const whole = join(dir, 'whole');
    assert.equal(rill(['replay', whole, file]).code, 0);
    assert.deepEqual(snapshot(root).map(strip), snapshot(whole).map(strip));
  } finally {
    cleanup();
  }
});

/** The replica's tree (not its .rill state). */
function tree(root: string): string[] {
  return snapshot(root).filter((l) => !l.startsWith('.rill'));
}

/** A snapshot line without what differs between two replicas of the same stream (inode numbers, mtimes of entries without utimes). */
function strip(line: string): string {
  return line.replace(/ ino=\d+/, '').replace(/ mtime=\d+/, '').replace(/^\.rill.*/, '');
}

test('--until NAME --last takes the last bookmark of that name; it needs FILEs, not stdin', async () => {
  const { dir, file, cleanup } = await fixture();
  try {
    const root = join(dir, 'r');
    const r = rill(['replay', '--until', 'b1', '--last', root, file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(stateSeq(root), 11);
    assert.equal(existsSync(join(root, 'g')), false);
    assert.equal(existsSync(join(root, 'z')), false);
    const stdin = rill(['replay', '--until', 'b1', '--last', join(dir, 'r2')], readFileSync(file));
    assert.equal(stdin.code, 2);
    assert.match(stdin.stderr, /--until NAME --last reads the input twice .*: give stream FILEs, not stdin/);
    const absent = rill(['replay', '--until', 'nope', '--last', join(dir, 'r3'), file]);
    assert.equal(absent.code, 1);
    assert.equal(existsSync(join(dir, 'r3')), false, 'nothing applied when --last finds no such bookmark');
  } finally {
    cleanup();
  }
});

test('an unknown bookmark: exit 1 naming it and the bookmarks seen; the replica holds the whole input', async () => {
  const { dir, file, cleanup } = await fixture();
  try {
    const root = join(dir, 'r');
    const r = rill(['replay', '--until', 'nightly', root, file]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, 'rill replay: bookmark "nightly" not found: the input ended first (bookmarks seen: "b1", "b2"); the replica holds everything the input had\n');
    assert.ok(existsSync(join(root, 'z')));
    assert.equal(stateSeq(root), 13);
  } finally {
    cleanup();
  }
});

test('a replica past the bookmark: exit 7, replay does not go back', async () => {
  const { dir, file, cleanup } = await fixture();
  try {
    const root = join(dir, 'r');
    assert.equal(rill(['replay', '--until', 'b2', root, file]).code, 0);
    const r = rill(['replay', '--until', 'b1', root, file]);
    assert.equal(r.code, 7, r.stderr);
    assert.match(r.stderr, /the replica is past bookmark "b1" \(seq 4\): it holds the source through seq 8, and replay does not go back; restore from a snapshot/);
    assert.equal(stateSeq(root), 8, 'nothing changed');
  } finally {
    cleanup();
  }
});

test('a full stream whose last commit is the bookmark: --until finishes its sweep (the replica is exactly the stream)', () => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(join(dir, 'src'), [{ type: 'dir', path: 'd' }, { type: 'file', path: 'd/f', content: 'data' }]);
    makeTree(join(dir, 'r'), [{ type: 'file', path: 'stale', content: 'old' }, { type: 'dir', path: 'd' }, { type: 'file', path: 'd/old', content: 'old' }]);
    const r = sh(`rill capture --scan ${q(join(dir, 'src'))} | rill bookmark --consistent snap | rill replay --force --until snap ${q(join(dir, 'r'))}`);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(existsSync(join(dir, 'r/stale')), false);
    assert.equal(existsSync(join(dir, 'r/d/old')), false);
    assert.equal(readFileSync(join(dir, 'r/d/f'), 'utf8'), 'data');
    const v = rill(['verify', join(dir, 'src'), join(dir, 'r')]);
    assert.equal(v.code, 0, v.stdout.toString());
  } finally {
    cleanup();
  }
});

test('a volume replica (a file): --until and --on-bookmark work the same', () => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'vol.img'), Buffer.alloc(300_000, 7));
    const hook = join(dir, 'hook');
    const r = sh(`rill capture --scan ${q(join(dir, 'vol.img'))} | rill bookmark --consistent v1 | rill replay --until v1 --on-bookmark ${q(`echo "$RILL_BOOKMARK $RILL_BOOKMARK_SEQ" > ${hook}`)} ${q(join(dir, 'copy.img'))}`);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readFileSync(join(dir, 'copy.img')), readFileSync(join(dir, 'vol.img')));
    assert.match(readFileSync(hook, 'utf8'), /^v1 \d+\n$/);
  } finally {
    cleanup();
  }
});
