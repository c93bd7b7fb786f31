// capture --state: the manifest's life cycle (written only after a complete stream), change-set
// headers (same source, base = last seq), and refusals of foreign, corrupt or misplaced state files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync, existsSync, statSync, readdirSync } from 'node:fs';
import { tempDir } from '../helpers/tree.js';
import { rill, sh, q } from '../helpers/cli.js';

function headerOf(stream: Buffer): { source: string; full?: boolean; base?: number } {
  const lines = rill(['dump'], stream).stdout.toString().trim().split('\n');
  return JSON.parse(lines[0]!) as { source: string; full?: boolean; base?: number };
}

function lastSeq(stream: Buffer): number {
  const lines = rill(['dump'], stream).stdout.toString().trim().split('\n');
  return (JSON.parse(lines[lines.length - 1]!) as { lastSeq: number }).lastSeq;
}

function setup(): { dir: string; src: string; state: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir('rill-state-');
  const src = `${dir}/src`;
  mkdirSync(`${src}/d`, { recursive: true });
  writeFileSync(`${src}/d/f`, 'content\n');
  return { dir, src, state: `${dir}/tree.state`, cleanup };
}

test('the first run is full, later runs are change sets of the same source continuing its seqs', () => {
  const { src, state, cleanup } = setup();
  try {
    const a = rill(['capture', '--scan', '--state', state, src]);
    assert.equal(a.code, 0, a.stderr);
    const h1 = headerOf(a.stdout);
    assert.equal(h1.full, true);
    assert.ok(existsSync(state));
    writeFileSync(`${src}/d/g`, 'more');
    const b = rill(['capture', '--scan', '--state', state, src]);
    assert.equal(b.code, 0, b.stderr);
    const h2 = headerOf(b.stdout);
    assert.equal(h2.source, h1.source);
    assert.notEqual(h2.full, true);
    assert.equal(h2.base, lastSeq(a.stdout));
    const first = JSON.parse(rill(['dump'], b.stdout).stdout.toString().split('\n')[1]!) as { seq: number };
    assert.equal(first.seq, lastSeq(a.stdout) + 1);
    const c = rill(['capture', '--scan', '--state', state, '--full', src]);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(headerOf(c.stdout).full, true);
    assert.equal(headerOf(c.stdout).source, h1.source, '--full keeps numbering the same source');
  } finally {
    cleanup();
  }
});

test('a run whose stream did not reach its output leaves the old state, so the next run sends the change again', () => {
  const { dir, src, state, cleanup } = setup();
  try {
    assert.equal(rill(['capture', '--scan', '--state', state, src]).code, 0);
    const before = readFileSync(state);
    writeFileSync(`${src}/d/f`, Buffer.alloc(4 << 20, 9));
    const r = sh(`rill capture --scan --state ${q(state)} ${q(src)} | head -c 100 > /dev/null`);
    assert.notEqual(r.code, 0, 'the capture saw its output close');
    assert.deepEqual(readFileSync(state), before, 'state unchanged');
    assert.deepEqual(readdirSync(dir).filter((n) => n.includes('.tmp')), [], 'no temp files left beside the state');
    const again = rill(['capture', '--scan', '--state', state, src]);
    const bytes = rill(['dump'], again.stdout).stdout.toString().split('\n').filter((l) => l.includes('"write"')).length;
    assert.ok(bytes > 0, 'the change is sent again');
  } finally {
    cleanup();
  }
});

test('a state of another root, a corrupt or truncated state, a state inside the tree are refused; --full rebuilds', () => {
  const { dir, src, state, cleanup } = setup();
  try {
    assert.equal(rill(['capture', '--scan', '--state', state, src]).code, 0);
    const other = `${dir}/other`;
    mkdirSync(other);
    const foreign = rill(['capture', '--scan', '--state', state, other]);
    assert.equal(foreign.code, 7, foreign.stderr);
    assert.match(foreign.stderr, /belongs to .*src, not .*other/);
    assert.match(foreign.stderr, /--full/);
    const wrongSource = rill(['capture', '--scan', '--state', state, '--source', 'someone-else', src]);
    assert.equal(wrongSource.code, 7);
    assert.match(wrongSource.stderr, /numbers source/);

    const good = readFileSync(state);
    const flipped = Buffer.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
    writeFileSync(state, flipped);
    const corrupt = rill(['capture', '--scan', '--state', state, src]);
    assert.equal(corrupt.code, 7, corrupt.stderr);
    assert.match(corrupt.stderr, /corrupt/);
    writeFileSync(state, good.subarray(0, good.length - 9));
    const truncated = rill(['capture', '--scan', '--state', state, src]);
    assert.equal(truncated.code, 7, truncated.stderr);
    assert.match(truncated.stderr, /corrupt|truncated/);
    writeFileSync(state, 'not a state file at all');
    assert.equal(rill(['capture', '--scan', '--state', state, src]).code, 7);
    const rebuilt = rill(['capture', '--scan', '--state', state, '--full', src]);
    assert.equal(rebuilt.code, 0, rebuilt.stderr);
    assert.equal(headerOf(rebuilt.stdout).full, true);
    assert.equal(rill(['capture', '--scan', '--state', state, src]).code, 0, 'the rebuilt state is good');

    const inside = rill(['capture', '--scan', '--state', `${src}/d/x.state`, src]);
    assert.equal(inside.code, 2);
    assert.match(inside.stderr, /inside the captured tree/);
    assert.equal(existsSync(`${src}/d/x.state`), false);
    const noState = rill(['capture', '--scan', '--full', src]);
    assert.equal(noState.code, 2);
    assert.match(noState.stderr, /--full needs --state/);
    assert.ok(statSync(state).size > 0);
  } finally {
    cleanup();
  }
});

test('a root that is no directory, file or device, --checksum without --state and a too small --block-size are usage errors', () => {
  const { dir, src, state, cleanup } = setup();
  try {
    const fifo = `${dir}/fifo`;
    assert.equal(sh(`mkfifo ${q(fifo)}`).code, 0);
    const r = rill(['capture', '--scan', fifo]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /is not a directory, regular file or block device/);
    const c = rill(['capture', '--scan', '--checksum', src]);
    assert.equal(c.code, 2);
    assert.match(c.stderr, /--checksum needs --state/);
    const b = rill(['capture', '--scan', '--state', state, '--block-size', '256', src]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /--block-size "256" is not a size from 512/);
    assert.equal(existsSync(state), false, 'nothing written on a usage error');
  } finally {
    cleanup();
  }
});
