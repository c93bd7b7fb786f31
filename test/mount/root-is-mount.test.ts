// ROOT is often a mount point of its own (/srv/data on its own disk). Stopping the capture, an
// unmount of the FUSE layer from outside, or the capture's death must take away the FUSE mount and
// only it: the file system below stays mounted (an unguarded umount2(ROOT) after ours was gone
// used to detach it too).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { loopFs, requireLoop } from '../freeze/loop.js';
import { fuseMountsAt, requireFuse, startCapture, until, verify } from './harness.js';

/** The file system types mounted at exactly this path, bottom to top. */
function mountsAt(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === path)
    .map((l) => l.split(' - ')[1]!.split(' ')[0]!);
}


for (const how of ['SIGTERM', 'umount -l from outside', 'kill -9 of the capture'] as const) {
  test(`the disk mounted at ROOT stays mounted after ${how}`, async (t) => {
    if (!requireFuse(t) || !requireLoop(t, 'ext4')) return;
    const disk = loopFs('ext4');
    const { dir, cleanup } = tempDir('rill-mount-root-');
    const rep = join(dir, 'rep');
    let run;
    try {
      writeFileSync(join(disk.dir, 'before'), 'already there\n');
      spawnSync('sh', ['-c', `mkdir -p ${rep} && cp -a ${disk.dir}/. ${rep}/`]);
      run = await startCapture(disk.dir, rep);
      assert.deepEqual(mountsAt(disk.dir), ['ext4', 'fuse.rill']);
      writeFileSync(join(disk.dir, 'through'), 'written through the mount\n');
      if (how === 'SIGTERM') {
        const r = await run.stop('SIGTERM');
        assert.equal(r.capture, 143, r.stderr);
        assert.equal(r.replay, 0, r.replayErr);
        const v = verify(disk.dir, rep);
        assert.equal(v.code, 0, v.out);
      } else if (how === 'umount -l from outside') {
        assert.equal(spawnSync('umount', ['-l', disk.dir]).status, 0);
        const r = await run.stop('SIGTERM'); // already ending: the signal finds it gone or stopping
        assert.ok(r.capture === 0 || r.capture === 143, `capture exit ${r.capture}: ${r.stderr}`);
      } else {
        run.capture.kill('SIGKILL');
        await until(() => fuseMountsAt(disk.dir).length === 0, 'the layer has taken its mount away');
        await new Promise((r) => setTimeout(r, 300)); // a late umount2 would come now
      }
      assert.deepEqual(mountsAt(disk.dir), ['ext4'], `only the FUSE mount went away (${how})`);
      assert.equal(readFileSync(join(disk.dir, 'through'), 'utf8'), 'written through the mount\n', 'the write is on the disk');
      assert.equal(readFileSync(join(disk.dir, 'before'), 'utf8'), 'already there\n');
    } finally {
      run?.cleanup();
      disk.cleanup();
      cleanup();
    }
  });
}
