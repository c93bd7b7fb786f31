// Concurrent writers: processes overwriting overlapping ranges of one file (plus truncates and hole
// punches), and a rename storm (files and directories renamed over each other, exchanged, linked,
// removed, written). The replica must end byte-identical: the journal's order is one the master's
// file system could have executed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHES, mountDirs, requireFuse, requireTool, startCapture, stopAndVerify } from './harness.js';

const OVERLAP = `
import os, random, sys
path, seed = sys.argv[1], int(sys.argv[2])
r = random.Random(seed)
fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
for i in range(1500):
    op = r.random()
    off = r.randrange(0, 1 << 20)
    if op < 0.9:
        os.pwrite(fd, bytes([seed * 16 + i % 16]) * r.randrange(1, 70000), off)
    elif op < 0.95:
        os.ftruncate(fd, off + (1 << 19))
    else:
        try:
            os.posix_fallocate(fd, off, 8192)
        except OSError:
            pass
os.close(fd)
`;

const STORM = `
import ctypes, os, random, sys
root, seed = sys.argv[1], int(sys.argv[2])
libc = ctypes.CDLL(None, use_errno=True)
r = random.Random(seed)
dirs = ['', 'd1', 'd2', 'd1/sub', 'd2/sub']
def p(): return os.path.join(root, r.choice(dirs), 'n%d' % r.randrange(12))
for i in range(800):
    op = r.random()
    a, b = p(), p()
    try:
        if op < 0.3:
            with open(a, 'ab') as f: f.write(b'%d:%d\\n' % (seed, i))
        elif op < 0.6:
            os.rename(a, b)
        elif op < 0.7:
            libc.renameat2(-100, a.encode(), -100, b.encode(), 2)
        elif op < 0.78:
            os.link(a, b)
        elif op < 0.85:
            os.unlink(a)
        elif op < 0.9:
            os.mkdir(a)
        elif op < 0.95:
            os.rmdir(a)
        else:
            d1, d2 = os.path.join(root, r.choice(dirs[1:])), os.path.join(root, r.choice(dirs[1:]))
            os.rename(d1, d2)
            os.mkdir(d1)
    except OSError:
        pass
`;

function python(script: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('python3', ['-c', script, ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`python3 exited ${code}: ${err}`))));
  });
}

for (const [label, cache] of CACHES) {
  test(`four processes overwriting overlapping ranges of one file: the replica has the same bytes${label}`, async (t) => {
    if (!requireFuse(t) || !requireTool(t, 'python3')) return;
    const { dir, root, rep, cleanup } = mountDirs('rill-mount-overlap-');
    const run = await startCapture(root, rep, cache);
    try {
      writeFileSync(join(root, 'shared'), '');
      await Promise.all([1, 2, 3, 4].map((seed) => python(OVERLAP, [join(root, 'shared'), String(seed)])));
      await stopAndVerify(run, root, rep);
    } finally {
      run.cleanup();
      cleanup();
    }
  });
}

test('a rename storm of four processes (files, directories, exchanges, links): the replica is identical', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'python3')) return;
  const { root, rep, cleanup } = mountDirs('rill-mount-storm-');
  const run = await startCapture(root, rep);
  try {
    for (const d of ['d1/sub', 'd2/sub']) mkdirSync(join(root, d), { recursive: true });
    await Promise.all([1, 2, 3, 4].map((seed) => python(STORM, [root, String(seed)])));
    await stopAndVerify(run, root, rep);
  } finally {
    run.cleanup();
    cleanup();
  }
});
