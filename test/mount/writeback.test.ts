// --writeback: the kernel's page cache on the mount. Writes are recorded when they are written
// back, so what must hold is that they are written back: by the periodic flush while a file stays
// open, before a bookmark's cut, and before the capture stops.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RILL } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';
import { mountDirs, must, requireFuse, requireTool, startCapture, stopAndVerify, until } from './harness.js';


/**
 * A python process that opens file, writes one piece each time next() is called (resolving once it
 * is written), and closes the file after the last (done: its exit code).
 */
function heldWriter(file: string, pieces: string[]): { next: () => Promise<void>; done: Promise<number | null> } {
  const py = 'import os,sys\nfd=os.open(sys.argv[1],os.O_WRONLY|os.O_CREAT,0o644)\nfor p in sys.argv[2:]:\n  sys.stdin.readline()\n  os.write(fd,p.encode())\n  print("ok",flush=True)\nos.close(fd)';
  const p = spawn('python3', ['-c', py, file, ...pieces], { stdio: ['pipe', 'pipe', 'inherit'] });
  const done = new Promise<number | null>((r) => p.once('exit', r));
  return {
    next: () => {
      const written = new Promise<void>((r) => p.stdout.once('data', () => r()));
      p.stdin.write('go\n');
      return written;
    },
    done,
  };
}

const has = (file: string, text: string): boolean => existsSync(file) && readFileSync(file, 'utf8').includes(text);

test('--writeback: a write reaches the replica while its file is still open (no fsync, no close)', async (t) => {
  if (!requireFuse(t)) return;
  const { root, rep, cleanup } = mountDirs('rill-mount-wb-');
  const run = await startCapture(root, rep, ['--writeback', '--flush-every', '20ms']);
  try {
    const fd = openSync(join(root, 'log'), 'w');
    try {
      for (let i = 0; i < 3; i++) {
        writeSync(fd, `line ${i}\n`);
        await until(() => has(join(rep, 'log'), `line ${i}\n`), `line ${i} is in the replica`);
      }
    } finally {
      closeSync(fd);
    }
    await stopAndVerify(run, root, rep);
  } finally {
    run.cleanup();
    cleanup();
  }
});

test('--writeback: a bookmark holds what was written before it was asked for, and nothing after', async (t) => {
  if (!requireFuse(t)) return;
  const { dir, cleanup } = tempDir('rill-mount-wb-');
  const root = join(dir, 'root');
  const stream = join(dir, 'stream.rill');
  const sock = join(dir, 'ctl.sock');
  mkdirSync(root);
  // no periodic flush: only the bookmark's own flush can put "before" into the stream before the cut
  const run = await startCapture(root, stream, ['--writeback', '--flush-every', '1h', '--control', sock]);
  try {
    // the writer is another process: a fork+exec by the process holding the file (this one
    // spawning rill bookmark) closes its descriptors, and a close writes the cache back
    const w = heldWriter(join(root, 'f'), ['before\n', 'after\n']);
    await w.next();
    must(RILL, ['bookmark', 'b1', '--control', sock]);
    await w.next();
    assert.equal(await w.done, 0);
    const r = await run.stop();
    assert.equal(r.capture, 143, r.stderr);
    for (const [until, want] of [['b1', 'before\n'], [undefined, 'before\nafter\n']] as const) {
      const rep = join(dir, `rep-${until ?? 'end'}`);
      const args = until === undefined ? ['replay', rep] : ['replay', '--until', until, rep];
      const p = spawnSync(RILL, args, { input: readFileSync(stream), encoding: 'utf8' });
      assert.equal(p.status, 0, p.stderr);
      assert.equal(readFileSync(join(rep, 'f'), 'utf8'), want, `replayed to ${until ?? 'the end'}`);
    }
  } finally {
    run.cleanup();
    cleanup();
  }
});

test('--writeback: stopping writes the cache back first, and waits for a file still open for writing', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'python3')) return;
  const { root, rep, cleanup } = mountDirs('rill-mount-wb-');
  const run = await startCapture(root, rep, ['--writeback', '--flush-every', '1h']);
  try {
    // writes, then keeps the file open a while after the capture was told to stop, writing once more
    const py = 'import os,sys,time\nfd=os.open(sys.argv[1],os.O_WRONLY|os.O_CREAT,0o644)\nos.write(fd,b"first\\n")\nprint("written",flush=True)\nsys.stdin.readline()\ntime.sleep(0.5)\nos.write(fd,b"second\\n")\ntime.sleep(0.5)\nos.close(fd)';
    const w = spawn('python3', ['-c', py, join(root, 'held')], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((r) => w.stdout.once('data', () => r()));
    const stopped = run.stop('SIGTERM');
    w.stdin.end('go\n');
    const code = await new Promise<number | null>((r) => w.once('exit', r));
    assert.equal(code, 0, 'the writer could write and close on the detached mount');
    const r = await stopped;
    assert.equal(r.capture, 143, r.stderr);
    assert.equal(r.replay, 0, r.replayErr);
    assert.doesNotMatch(r.stderr, /still open for writing/);
    assert.equal(readFileSync(join(root, 'held'), 'utf8'), 'first\nsecond\n');
    assert.equal(readFileSync(join(rep, 'held'), 'utf8'), 'first\nsecond\n', 'both writes reached the replica');
  } finally {
    run.cleanup();
    cleanup();
  }
});

test('--flush-every and --dirty-max need --writeback', () => {
  for (const flag of [['--flush-every', '1s'], ['--dirty-max', '64M']]) {
    const r = spawnSync(RILL, ['capture', '--mount', '/nonexistent', ...flag], { encoding: 'utf8' });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${flag[0]} needs --writeback`));
  }
});
