// replay --on-bookmark CMD: run once the replica reached each consistent bookmark (the data is there
// for CMD to see), with the bookmark in its environment; a failing CMD stops the replay at that
// bookmark unless --on-bookmark-errors=warn; CMD's output never reaches replay's stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rill } from '../helpers/cli.js';
import { encode, fixedHeader } from '../helpers/codec.js';
import { tempDir } from '../helpers/tree.js';
import type { Event, EventInput } from '../../src/stream/events.js';

const numbered = (events: EventInput[]): Event[] => events.map((e, i) => ({ ...e, seq: i + 1 }) as Event);
const W = 1_700_000_000_123_000_000n;

const EVENTS = numbered([
  { type: 'create', path: 'f', mode: 0o644 },
  { type: 'write', path: 'f', offset: 0, data: Buffer.from('one') },
  { type: 'bookmark', name: 'first', wall: W, consistent: true }, // 3
  { type: 'write', path: 'f', offset: 0, data: Buffer.from('two') },
  { type: 'bookmark', name: 'loose', wall: W, consistent: false }, // 5
  { type: 'write', path: 'f', offset: 0, data: Buffer.from('six') },
  { type: 'bookmark', name: 'second', wall: W + 1_000_000n, consistent: true }, // 7
  { type: 'create', path: 'g', mode: 0o644 },
  { type: 'commit' },
]);

async function fixture(): Promise<{ dir: string; file: string; out: string; cleanup: () => void }> {
  const { dir, cleanup } = tempDir();
  const file = join(dir, 's.rill');
  writeFileSync(file, await encode(EVENTS, {}, { ...fixedHeader, full: undefined }));
  return { dir, file, out: join(dir, 'hook.log'), cleanup };
}

const HOOK = (out: string): string =>
  `echo "$RILL_BOOKMARK $RILL_BOOKMARK_SEQ $RILL_BOOKMARK_TIME $RILL_BOOKMARK_WALL $RILL_BOOKMARK_CONSISTENT $RILL_SOURCE $(cat "$RILL_ROOT/f") $(test -e "$RILL_ROOT/g" && echo g)" >> '${out}'; echo to-stdout`;

test('CMD runs at each consistent bookmark, after the replica reached it, with name, seq and time; its stdout goes to stderr', async () => {
  const { dir, file, out, cleanup } = await fixture();
  try {
    const r = rill(['replay', '--on-bookmark', HOOK(out), join(dir, 'r'), file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), '', 'nothing on replay\'s stdout');
    assert.equal(r.stderr, 'to-stdout\nto-stdout\n');
    const s = fixedHeader.source;
    assert.equal(readFileSync(out, 'utf8'), `first 3 2023-11-14T22:13:20.123Z 1700000000123000000 1 ${s} one \nsecond 7 2023-11-14T22:13:20.124Z 1700000000124000000 1 ${s} six \n`);
  } finally {
    cleanup();
  }
});

test('--all-bookmarks: also at bookmarks that are not consistent', async () => {
  const { dir, file, out, cleanup } = await fixture();
  try {
    const r = rill(['replay', '--all-bookmarks', '--on-bookmark', `echo "$RILL_BOOKMARK $RILL_BOOKMARK_CONSISTENT" >> '${out}'`, join(dir, 'r'), file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), 'first 1\nloose 0\nsecond 1\n');
  } finally {
    cleanup();
  }
});

test('a failing CMD stops the replay at its bookmark (exit 5), progress recorded; a rerun goes on from there', async () => {
  const { dir, file, out, cleanup } = await fixture();
  try {
    const root = join(dir, 'r');
    const r = rill(['replay', '--on-bookmark', `echo "$RILL_BOOKMARK" >> '${out}'; test "$RILL_BOOKMARK" != second`, root, file]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^rill replay: --on-bookmark command ".*" failed with exit status 1 at bookmark "second" \(seq 7\); the replica is at that bookmark, with its progress recorded; fix the command/);
    assert.equal(readFileSync(join(root, 'f'), 'utf8'), 'six');
    assert.equal(existsSync(join(root, 'g')), false, 'nothing after the bookmark was applied');
    assert.equal((JSON.parse(readFileSync(join(root, '.rill/state.json'), 'utf8')) as { lastSeq: number }).lastSeq, 7);
    const rerun = rill(['replay', '--on-bookmark', `echo "$RILL_BOOKMARK" >> '${out}'`, root, file]);
    assert.equal(rerun.code, 0, rerun.stderr);
    assert.ok(existsSync(join(root, 'g')));
    assert.equal(readFileSync(out, 'utf8'), 'first\nsecond\n', 'bookmarks applied before are not run again');
  } finally {
    cleanup();
  }
});

test('--on-bookmark-errors=warn: a failing CMD is a warning and the replay goes on', async () => {
  const { dir, file, cleanup } = await fixture();
  try {
    const root = join(dir, 'r');
    const r = rill(['replay', '--on-bookmark', 'exit 2', '--on-bookmark-errors', 'warn', root, file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr.match(/warning: --on-bookmark command "exit 2" failed with exit status 2 at bookmark/g)?.length, 2);
    assert.ok(existsSync(join(root, 'g')));
  } finally {
    cleanup();
  }
});

test('--until with --on-bookmark: the hook runs at the target too; --dry-run runs no hook', async () => {
  const { dir, file, out, cleanup } = await fixture();
  try {
    const r = rill(['replay', '--until', 'first', '--on-bookmark', `echo "$RILL_BOOKMARK" >> '${out}'`, join(dir, 'r'), file]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(out, 'utf8'), 'first\n');
    const dry = rill(['replay', '--dry-run', '--on-bookmark', `echo "$RILL_BOOKMARK" >> '${out}'`, join(dir, 'dry'), file]);
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal(readFileSync(out, 'utf8'), 'first\n');
    const usage = rill(['replay', '--all-bookmarks', join(dir, 'u'), file]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--all-bookmarks goes with --on-bookmark CMD/);
  } finally {
    cleanup();
  }
});
