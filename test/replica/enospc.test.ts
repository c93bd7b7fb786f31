// A full disk, for real (a small ext4 file system on a loop device): replay stops with exit 5 naming
// the path and "disk full", leaves no temp file and a consistent state; once space is freed, the
// same stream run again converges to exactly the tree of an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';
import { encode, fixedHeader } from '../helpers/codec.js';
import { rill } from '../helpers/cli.js';
import type { Event, EventInput } from '../../src/stream/events.js';
import { churn } from './churn.js';
import { temps } from './helpers.js';

function run(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** The churn stream with a 3 MiB file written in the middle of its last transaction, after renames. */
function events(): Event[] {
  const base = churn(3);
  const at = base.findIndex((e, i) => e.type === 'commit' && i > base.findIndex((x) => x.type === 'commit')) + 12; // after some renames
  const big: EventInput[] = [{ type: 'create', path: 'd1/big', mode: 0o640 }];
  for (let off = 0; off < 3 << 20; off += 65536) big.push({ type: 'write', path: 'd1/big', offset: off, data: Buffer.alloc(65536, off >> 16) });
  big.push({ type: 'utimes', path: 'd1/big', atime: 1n, mtime: 2n }, { type: 'rename', path: 'd1/big', to: 'd2/big' });
  return [...base.slice(0, at), ...big, ...base.slice(at)].map((e, i) => ({ ...e, seq: i + 1 }) as Event);
}

test('ENOSPC on a real file system: exit 5 naming the path, nothing half-made; after freeing space a rerun converges', async (t) => {
  const { dir, cleanup } = tempDir();
  try {
    const image = join(dir, 'fs.img');
    const mnt = join(dir, 'mnt');
    mkdirSync(mnt);
    writeFileSync(image, Buffer.alloc(0));
    const ok = isRoot && run('truncate', ['-s', '16M', image]) && run('mkfs.ext4', ['-q', '-F', '-m', '0', '-N', '2048', image]) && run('mount', ['-o', 'loop', image, mnt]);
    if (!requireCapability(t, ok, 'root, mkfs.ext4 and loop mounts')) return;
    try {
      const file = join(dir, 's.rill');
      writeFileSync(file, await encode(events(), {}, { ...fixedHeader, source: 'enospc', full: undefined }));
      const want = join(dir, 'want');
      assert.equal(rill(['replay', want, file]).code, 0);
      // Leave about 1.5 MiB: room for the small entries, not for the big file.
      const fs = statfsSync(mnt);
      const free = fs.bavail * fs.bsize;
      writeFileSync(join(mnt, 'filler'), Buffer.alloc(free - (3 << 19)));
      const rep = join(mnt, 'rep');
      const full = rill(['replay', rep, file]);
      assert.equal(full.code, 5, full.stderr);
      assert.match(full.stderr, /^rill replay: write "d1\/big": no space left on device \(disk full\) \(ENOSPC\)\n$/);
      assert.deepEqual(temps(rep), [], 'no temp file left');
      const state = JSON.parse(readFileSync(join(rep, '.rill/state.json'), 'utf8')) as { lastSeq: number };
      const commits = events().filter((e) => e.type === 'commit').map((e) => e.seq);
      assert.ok(commits.includes(state.lastSeq), `state at a commit (${state.lastSeq})`);
      assert.ok(JSON.parse(readFileSync(join(rep, '.rill/inflight'), 'utf8')).seq > state.lastSeq, 'renames past the commit are marked');
      // Still full: the same error again, nothing broken by the second attempt.
      assert.equal(rill(['replay', rep, file]).code, 5);
      rmSync(join(mnt, 'filler'));
      const again = rill(['replay', rep, file]);
      assert.equal(again.code, 0, again.stderr);
      const v = rill(['verify', want, rep]);
      assert.equal(v.code, 0, v.stdout.toString() + v.stderr);
      assert.deepEqual(temps(rep), []);
    } finally {
      execFileSync('umount', [mnt]);
    }
  } finally {
    cleanup();
  }
});
