// With --journal, an fsync through the mount means the journal too: the layer's reply to the fsync
// waits until the capture has the commit (and what came before it) fsynced in the journal. So after
// a power cut of the master, the journal holds every change an application was told is durable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../helpers/tree.js';
import { requireFuse, requireTool, startCapture } from './harness.js';

test('--journal: an fsync through the mount returns only once the journal holds the data durably', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'python3')) return;
  const { dir, cleanup } = tempDir('rill-mount-fsync-');
  const root = join(dir, 'root');
  const journal = join(dir, 'journal');
  mkdirSync(root);
  const run = await startCapture(root, undefined, ['--journal', journal]);
  try {
    // the capture (Node) stopped: records still fit in the channel, so only the ack can hold the fsync
    process.kill(run.capture.pid!, 'SIGSTOP');
    const py = 'import os,sys\nfd=os.open(sys.argv[1],os.O_WRONLY|os.O_CREAT,0o644)\nos.write(fd,b"durable\\n")\nprint("written",flush=True)\nos.fsync(fd)\nprint("synced",flush=True)\nos.close(fd)';
    const w = spawn('python3', ['-c', py, join(root, 'f')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    w.stdout.setEncoding('utf8');
    w.stdout.on('data', (s: string) => (out += s));
    const exited = new Promise<number | null>((r) => w.once('exit', r));
    for (let i = 0; i < 200 && !out.includes('written'); i++) await sleep(25);
    assert.match(out, /written/);
    await sleep(700);
    assert.doesNotMatch(out, /synced/, 'the fsync waits while the capture has not made the journal durable');
    process.kill(run.capture.pid!, 'SIGCONT');
    assert.equal(await exited, 0);
    assert.match(out, /synced/);
    // the moment the fsync returned, the journal's files held the write (frames are stored as they are)
    const held = readdirSync(journal).filter((n) => n.endsWith('.rill')).map((n) => readFileSync(join(journal, n)));
    assert.ok(held.some((b) => b.includes('durable\n')), 'the written bytes are in a journal segment');
    const r = await run.stop();
    assert.equal(r.capture, 143, r.stderr);
  } finally {
    try {
      process.kill(run.capture.pid!, 'SIGCONT');
    } catch {
      // gone
    }
    run.cleanup();
    cleanup();
  }
});
