// One writer per journal: a second open, in this process or another, fails with kind 'busy' (exit
// code 8) naming the pid that holds the lock; closing (or dying) releases it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers/tree.js';
import { RillError } from '../../src/errors.js';
import { EXIT, exitCodeOf } from '../../src/cli-run.js';
import { JournalWriter } from '../../src/journal/index.js';
import { spawnWriter } from './spawn.js';

async function busy(dir: string, pid: number): Promise<void> {
  await assert.rejects(JournalWriter.open(dir), (err: unknown) => {
    assert.ok(err instanceof RillError);
    assert.equal(err.kind, 'busy');
    assert.match(err.message, new RegExp(`in use by process ${pid} `));
    assert.equal(exitCodeOf(err), 8);
    return true;
  });
}

test('a second writer in the same process is refused as busy, naming this pid; after close the journal opens again', async () => {
  const { dir, cleanup } = tempDir();
  try {
    assert.equal(EXIT.busy, 8);
    const w = await JournalWriter.open(dir);
    await busy(dir, process.pid);
    await w.close();
    const again = await JournalWriter.open(dir);
    await again.close();
  } finally {
    cleanup();
  }
});

test('a writer in another process holds the lock until it exits; the refusal names its pid', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const child = spawnWriter(['hold', dir]);
    const [, pid] = await child.waitFor(/^ready (\d+)$/);
    assert.equal(Number(pid), child.proc.pid);
    await busy(dir, child.proc.pid!);
    child.proc.kill('SIGKILL'); // dying releases the lock too
    await child.exited;
    const w = await JournalWriter.open(dir);
    await w.close();
  } finally {
    cleanup();
  }
});
