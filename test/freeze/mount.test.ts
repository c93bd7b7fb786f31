// freeze and bookmark against the real control socket of `rill capture --mount` (issue #6): a
// writer waits while paused, the bookmark lands in the journal at the cut, replay --until it gives
// exactly the tree seen during the pause, and a killed freeze leaves the capture running, resumed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rill } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';
import { requireFuse, startCapture, verify } from '../mount/harness.js';
import { start, timedWrite, waitFor } from './run.js';

/** A tree to serve, a journal and a socket beside it (never inside the mount). */
function setup(): { dir: string; root: string; journal: string; sock: string; out: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir();
  const root = join(dir, 'root');
  mkdirSync(join(root, 'd'), { recursive: true });
  for (let i = 0; i < 10; i++) writeFileSync(join(root, 'd', `f${i}`), `file ${i}\n`);
  mkdirSync(join(dir, 'out'));
  return { dir, root, journal: join(dir, 'journal'), sock: join(dir, 'c.sock'), out: join(dir, 'out'), cleanup };
}

test('capture --mount: freeze --control holds a running writer, the journal gets the bookmark at the cut, replay --until it is the paused tree', async (t) => {
  if (!requireFuse(t)) return;
  const s = setup();
  // --scan-first: the journal starts with the whole tree, so a replica can be built from it alone.
  const run = await startCapture(s.root, undefined, ['--scan-first', '--journal', s.journal, '--control', s.sock]);
  const writer = spawn('sh', ['-c', `i=0; while :; do echo "line $i" >> '${s.root}/log'; i=$((i+1)); done`], { stdio: 'ignore' });
  try {
    await waitFor(join(s.root, 'log'));
    // (Reading log itself would wait too: the FUSE layer holds a read of a file whose write is held.)
    const cmd = `stat -c %s log > '${s.out}/before'; cp -a d '${s.out}/snap'; sleep 0.5; stat -c %s log > '${s.out}/after'`;
    const f = await start(['freeze', '--control', s.sock, '--bookmark', 'nightly', '--verbose', s.root, '--', 'sh', '-c', `cd "$RILL_ROOT" && ${cmd}`]).done;
    assert.equal(f.code, 0, f.stderr);
    const seq = Number(/bookmark "nightly" at seq (\d+)/.exec(f.stderr)![1]);
    assert.equal(readFileSync(join(s.out, 'before'), 'utf8'), readFileSync(join(s.out, 'after'), 'utf8'), 'the writer made no progress while paused');
    await sleep(300);
    writer.kill('SIGKILL');
    const stopped = await run.stop('SIGTERM');
    assert.equal(stopped.capture, 143, stopped.stderr); // stopped by SIGTERM, cleanly
    const marks = rill(['dump', '--bookmarks', s.journal]).stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { name: string; seq: number; consistent: boolean });
    assert.deepEqual(marks.map((m) => [m.name, m.seq, m.consistent]), [['nightly', seq, true]]);
    const segments = readdirSync(s.journal).filter((n) => n.endsWith('.rill')).sort().map((n) => join(s.journal, n));
    const replica = join(s.dir, 'replica');
    const r = rill(['replay', '--until', 'nightly', replica, ...segments]);
    assert.equal(r.code, 0, r.stderr);
    const v = verify(join(s.out, 'snap'), join(replica, 'd'));
    assert.equal(v.code, 0, v.out);
    assert.equal(String(statSync(join(replica, 'log')).size), readFileSync(join(s.out, 'before'), 'utf8').trim(), 'the log as it was at the cut');
  } finally {
    writer.kill('SIGKILL');
    run.cleanup();
    s.cleanup();
  }
});

test('capture --mount: kill -9 of freeze --control while paused; the capture resumes and keeps serving', async (t) => {
  if (!requireFuse(t)) return;
  const s = setup();
  const run = await startCapture(s.root, undefined, ['--journal', s.journal, '--control', s.sock]);
  try {
    const f = start(['freeze', '--control', s.sock, '--timeout', '60', s.root, '--', 'sh', '-c', `touch '${s.out}/paused'; sleep 30`]);
    await waitFor(join(s.out, 'paused'));
    const blocked = timedWrite(join(s.root, 'during'));
    await sleep(300);
    f.child.kill('SIGKILL');
    const took = await blocked;
    assert.ok(took >= 250, `the write returned after ${took} ms: it was not held by the pause`);
    assert.ok(took < 5000, `the write waited ${took} ms: the capture did not resume when the connection closed`);
    assert.equal(readFileSync(join(s.root, 'during'), 'utf8'), 'written\n');
    const b = await start(['bookmark', '--control', s.sock, 'after-kill']).done;
    assert.equal(b.code, 0, b.stderr);
    assert.match(b.stdout.toString(), /^\d+\n$/);
  } finally {
    run.cleanup();
    s.cleanup();
  }
});
