// ROOT/.rill/state.json records progress at commits and ends (the mark in ROOT/.rill/inflight in
// between, see resume.test.ts); a rerun skips what was applied and converges to the uninterrupted
// result; stale temps are cleaned; --dry-run touches nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync, symlinkSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { applyRecords } from '../../src/replica/index.js';
import { RillError } from '../../src/errors.js';
import type { EventInput } from '../../src/stream/events.js';
import { feed, rejectsWith, replay, snapshot, stream, temps } from './helpers.js';

const state = (root: string) => JSON.parse(readFileSync(join(root, '.rill/state.json'), 'utf8'));

const EVENTS: EventInput[] = [
  { type: 'mkdir', path: 'd', mode: 0o755 },
  { type: 'create', path: 'd/a', mode: 0o644 },
  { type: 'write', path: 'd/a', offset: 0, data: Buffer.from('aaa') },
  { type: 'commit' },
  { type: 'rename', path: 'd/a', to: 'd/b' }, // not safe to apply twice: only the skip of committed events protects it
  { type: 'create', path: 'd/c', mode: 0o600 },
  { type: 'write', path: 'd/c', offset: 0, data: Buffer.from('ccc') },
  { type: 'commit' },
  { type: 'chmod', path: 'd/b', mode: 0o640 },
  { type: 'create', path: 'd/e', mode: 0o600 },
  { type: 'write', path: 'd/e', offset: 0, data: Buffer.from('eee') },
  { type: 'utimes', path: 'd', atime: 1n, mtime: 2n },
];

test('state.json holds source, node, last seq and time after each commit and at the end', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const seen: number[] = [];
    const recs = stream(EVENTS, { source: 'src-1' });
    await applyRecords(feed(recs, (i) => { if (i === 5 || i === 9) seen.push(state(dir).lastSeq); }), dir, { log: () => {} });
    assert.deepEqual(seen, [4, 8]);
    const s = state(dir);
    assert.equal(s.source, 'src-1');
    assert.equal(s.node, 'test-node');
    assert.equal(s.lastSeq, 12);
    assert.equal(statSync(join(dir, '.rill/inflight')).size, 0, 'the mark is superseded by the state');
    assert.ok(Date.now() - Date.parse(s.updated) < 60_000);
  } finally {
    cleanup();
  }
});

test('a rerun after a failure skips what was committed, and converges without a warning', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const whole = join(dir, 'whole');
    const resumed = join(dir, 'resumed');
    await applyRecords(feed(stream(EVENTS, { source: 's' })), whole, { log: () => {} });
    const broken = stream(EVENTS, { source: 's', end: false }).slice(0, 11); // through the second commit, then chmod, create d/e
    await rejectsWith(applyRecords(feed(broken, undefined, new RillError('stream', 'cut')), resumed, { log: () => {} }), 'stream');
    assert.equal(state(resumed).lastSeq, 8);
    const log: string[] = [];
    const stats = await applyRecords(feed(stream(EVENTS, { source: 's' })), resumed, { log: (l) => log.push(l) });
    assert.equal(stats.skipped, 8);
    assert.deepEqual(log, [`skipped 8 events already applied (source s, seq <= 8, per ${resumed}/.rill)`]);
    // files' mtimes are when each run wrote them (the stream sets none); everything else must match
    const strip = (lines: string[]) => lines.filter((l) => !l.startsWith('.rill')).map((l) => l.replace(/ ino=\d+/, '').replace(/^(d\/\S+ .*)mtime=\d+/, '$1'));
    assert.deepEqual(strip(snapshot(resumed)).slice(1), strip(snapshot(whole)).slice(1));
    assert.ok(snapshot(resumed).some((l) => /^d .*mtime=2 /.test(l)));
    // and a third run of the same stream changes nothing, with no warning
    const quiet: string[] = [];
    const again = await applyRecords(feed(stream(EVENTS, { source: 's' })), resumed, { log: (l) => quiet.push(l) });
    assert.equal(again.events, 0);
    assert.deepEqual(quiet, [`skipped 12 events already applied (source s, seq <= 12, per ${resumed}/.rill)`]);
  } finally {
    cleanup();
  }
});

test('temp files of dead replays are removed at start; an unsafe .rill is refused', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await replay(dir, []);
    writeFileSync(join(dir, '.rill/tmp/999999999.1'), 'left by a killed replay');
    await replay(dir, []);
    assert.deepEqual(temps(dir), []);
    const other = join(dir, 'other');
    mkdirSync(other);
    symlinkSync('/tmp', join(other, '.rill'));
    await rejectsWith(replay(other, []), 'unsafe', /rill's state/);
  } finally {
    cleanup();
  }
});

test('--dry-run prints one line per change, creates nothing, and still refuses hostile paths', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'not-there');
    const lines: string[] = [];
    const { stats } = await replay(root, [...EVENTS, { type: 'chown', path: 'd', uid: 1, gid: 2 }, { type: 'note', code: 'x', message: 'y' }], {
      dryRun: true,
      owner: true,
      print: (l) => { lines.push(l); },
    });
    assert.equal(existsSync(root), false);
    assert.deepEqual(lines, [
      'mkdir "d" mode 0755',
      'create "d/a" mode 0644',
      'write "d/a" offset 0 length 3',
      'rename "d/a" to "d/b"',
      'create "d/c" mode 0600',
      'write "d/c" offset 0 length 3',
      'chmod "d/b" mode 0640',
      'create "d/e" mode 0600',
      'write "d/e" offset 0 length 3',
      'utimes "d" atime 1 mtime 2',
      'chown "d" uid 1 gid 2',
    ]);
    assert.equal(stats.files, 3);
    await applyRecords(feed(stream(EVENTS, { source: 'seen' })), join(dir, 'real'), { log: () => {} });
    const none: string[] = [];
    await applyRecords(feed(stream(EVENTS, { source: 'seen' })), join(dir, 'real'), { dryRun: true, print: (l) => { none.push(l); }, log: () => {} });
    assert.deepEqual(none, [], 'events already applied are not listed');
    await rejectsWith(replay(root, [{ type: 'create', path: '../x', mode: 0o644 }], { dryRun: true, print: () => {} }), 'unsafe');
    await rejectsWith(replay(root, [{ type: 'mkdir', path: '.rill/x', mode: 0o755 }], { dryRun: true, print: () => {} }), 'unsafe');
    assert.equal(existsSync(root), false);
  } finally {
    cleanup();
  }
});

test('--fsync applies the same tree (files, renamed entries and their directories synced at commits)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const plain = join(dir, 'plain');
    const synced = join(dir, 'synced');
    await applyRecords(feed(stream(EVENTS, { source: 'f' })), plain, { log: () => {} });
    const { stats } = await replay(synced, [...EVENTS, { type: 'write', path: 'd/b', offset: 3, data: Buffer.from('!') }, { type: 'commit' }], { fsync: true });
    assert.equal(stats.events, EVENTS.length + 2);
    assert.equal(readFileSync(join(synced, 'd/b'), 'utf8'), 'aaa!');
    assert.equal(readFileSync(join(synced, 'd/e'), 'utf8'), readFileSync(join(plain, 'd/e'), 'utf8'));
    assert.deepEqual(temps(synced), []);
  } finally {
    cleanup();
  }
});
