// rill dump on damaged input and on journals: it prints every whole record before a torn frame
// (then exit 3 naming the offset), and reads a journal directory like a file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rill, sh, q } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';

test('dump of a torn stream prints the records before the tear, then exits 3', () => {
  const { dir, cleanup } = tempDir('rill-dump-');
  try {
    mkdirSync(join(dir, 'src'));
    for (let i = 0; i < 40; i++) writeFileSync(join(dir, 'src', `f${i}`), Buffer.alloc(100_000, i));
    // a small chunk size: many frames, so a cut near the end leaves most of them whole
    const cap = sh(`rill capture --scan --chunk-size 16K ${q(join(dir, 'src'))} > ${q(join(dir, 's.rill'))}`);
    assert.equal(cap.code, 0, cap.stderr);
    const whole = readFileSync(join(dir, 's.rill'));
    const all = rill(['dump', '-'], whole);
    assert.equal(all.code, 0, all.stderr);
    const n = all.stdout.toString().trim().split('\n').length;
    const cut = rill(['dump', '-'], whole.subarray(0, whole.length - 5000));
    assert.equal(cut.code, 3, cut.stderr);
    assert.match(cut.stderr, /truncated|inside a frame/);
    const lines = cut.stdout.toString().trim().split('\n');
    assert.ok(lines.length > n / 2 && lines.length < n, `printed ${lines.length} of ${n} records before the tear`);
    assert.deepEqual(lines, all.stdout.toString().trim().split('\n').slice(0, lines.length), 'the same records as the whole stream, in order');
  } finally {
    cleanup();
  }
});

test('dump reads a journal directory (ship --sink) like a stream file', () => {
  const { dir, cleanup } = tempDir('rill-dump-');
  try {
    mkdirSync(join(dir, 'src'));
    writeFileSync(join(dir, 'src', 'a'), 'hello\n');
    const r = sh(`cd ${q(dir)} && rill capture --scan src > s.rill && rill ship --sink inbox < s.rill > /dev/null`);
    assert.equal(r.code, 0, r.stderr);
    const fromDir = rill(['dump', '--events', join(dir, 'inbox')]);
    assert.equal(fromDir.code, 0, fromDir.stderr);
    const fromFile = rill(['dump', '--events', join(dir, 's.rill')]);
    assert.equal(fromDir.stdout.toString(), fromFile.stdout.toString());
    assert.match(fromDir.stdout.toString(), /"path":"a"/);
  } finally {
    cleanup();
  }
});
