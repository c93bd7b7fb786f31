// git as the writer: clone a local repository into the mount, commit, gc (packs, deletes loose
// objects, renames refs), then git fsck and the same HEAD on the replica.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { must, requireFuse, requireTool, startCapture, stopAndVerify } from './harness.js';

const GIT_ENV = ['-c', 'user.name=rill', '-c', 'user.email=rill@example.invalid', '-c', 'gc.auto=0'];

test('git clone, commits and gc inside the mount: git fsck passes on the replica', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'git')) return;
  const { dir, cleanup } = tempDir('rill-mount-git-');
  const src = join(dir, 'src');
  const root = join(dir, 'root');
  const rep = join(dir, 'rep');
  mkdirSync(root);
  mkdirSync(src);
  must('git', ['init', '-q', src]);
  for (let i = 0; i < 30; i++) {
    writeFileSync(join(src, `f${i % 7}.txt`), `line ${i}\n`.repeat(50 + i));
    must('git', [...GIT_ENV, '-C', src, 'add', '-A']);
    must('git', [...GIT_ENV, '-C', src, 'commit', '-q', '-m', `commit ${i}`]);
  }
  const run = await startCapture(root, rep);
  try {
    const clone = join(root, 'clone');
    must('git', [...GIT_ENV, 'clone', '-q', '--no-local', src, clone]);
    for (let i = 0; i < 10; i++) {
      writeFileSync(join(clone, `new${i}.txt`), `new file ${i}\n`.repeat(100));
      must('git', [...GIT_ENV, '-C', clone, 'add', '-A']);
      must('git', [...GIT_ENV, '-C', clone, 'commit', '-q', '-m', `in the mount ${i}`]);
    }
    must('git', [...GIT_ENV, '-C', clone, 'gc', '-q', '--prune=now']);
    const head = must('git', ['-C', clone, 'rev-parse', 'HEAD']);
    // first: the checks below open the databases and repositories, which changes them
    await stopAndVerify(run, root, rep);
    const replicaClone = join(rep, 'clone');
    must('git', ['-c', `safe.directory=${replicaClone}`, '-C', replicaClone, 'fsck', '--full', '--strict']);
    assert.equal(must('git', ['-c', `safe.directory=${replicaClone}`, '-C', replicaClone, 'rev-parse', 'HEAD']), head);
    assert.equal(must('git', ['-c', `safe.directory=${replicaClone}`, '-C', replicaClone, 'status', '--porcelain']), '');
  } finally {
    run.cleanup();
    cleanup();
  }
});
