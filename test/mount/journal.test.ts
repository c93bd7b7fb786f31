// --journal DIR: the capture writes segments that `rill ship --from DIR` sends on; with
// --journal-max, writers block (never drop) until ship's acknowledged trims make room.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { RILL } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';
import { requireFuse, startCapture, verify } from './harness.js';

const exited = (p: ChildProcess): Promise<number | null> => (p.exitCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', r)));

test('--journal-max blocks writers until rill ship trims the journal; the replica ends identical', async (t) => {
  if (!requireFuse(t)) return;
  const { dir, cleanup } = tempDir('rill-mount-journal-');
  const root = join(dir, 'root');
  const journal = join(dir, 'journal');
  const rep = join(dir, 'rep');
  mkdirSync(root);
  const run = await startCapture(root, undefined, ['--journal', journal, '--journal-max', '1M']);
  let ship: ChildProcess | undefined;
  try {
    const dd = spawn('dd', ['if=/dev/urandom', `of=${join(root, 'big')}`, 'bs=64k', 'count=80', 'conv=fsync', 'status=none']);
    await sleep(2500);
    assert.equal(dd.exitCode, null, 'the writer is held while the journal is over --journal-max');
    assert.match(run.stderr(), /more than --journal-max: writers wait/);
    const segments = readdirSync(journal).filter((n) => n.endsWith('.rill'));
    assert.ok(segments.length > 0);
    ship = spawn(RILL, ['ship', '--from', journal, '--', RILL, 'replay', '--ack', rep], { stdio: 'ignore' });
    assert.equal(await exited(dd), 0, 'ship trimmed the journal: the writer went on');
    const r = await run.stop();
    assert.equal(r.capture, 143, r.stderr);
    for (let i = 0; i < 200; i++) {
      if (verify(root, rep).code === 0) break;
      await sleep(100);
    }
    const v = verify(root, rep);
    assert.equal(v.code, 0, v.out);
    assert.deepEqual(readFileSync(join(rep, 'big')), readFileSync(join(root, 'big')));
  } finally {
    ship?.kill('SIGTERM');
    if (ship) await exited(ship);
    run.cleanup();
    cleanup();
  }
});
