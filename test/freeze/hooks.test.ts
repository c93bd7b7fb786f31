// Hooks that fail or hang, and a CMD that outlives the deadline: clear messages, the documented
// exit statuses, post hooks always, and the file system never left frozen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rill } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';
import { loopFs, requireLoop } from './loop.js';
import { timedWrite } from './run.js';

/** The file system takes a write at once (it is not frozen). */
async function notFrozen(dir: string): Promise<void> {
  const took = await timedWrite(join(dir, `probe-${Math.random()}`));
  assert.ok(took < 1500, `a write took ${took} ms: the file system was left frozen`);
}

test('a failing --pre hook: nothing is frozen, CMD does not run, post hooks run, exit 5 naming the hook', async (t) => {
  if (!requireLoop(t, 'ext4')) return;
  const fs = loopFs('ext4');
  const { dir: out, cleanup } = tempDir();
  try {
    const r = rill(['freeze', '--pre', 'exit 3', '--post', `echo "$RILL_FREEZE_STATUS" > '${out}/post'`, fs.dir, '--', 'touch', join(out, 'cmd-ran')]);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^rill freeze: --pre hook "exit 3" failed with exit status 3: nothing was frozen\n$/);
    assert.equal(existsSync(join(out, 'cmd-ran')), false);
    assert.equal(readFileSync(join(out, 'post'), 'utf8'), 'failed\n');
    await notFrozen(fs.dir);
  } finally {
    cleanup();
    fs.cleanup();
  }
});

test('a failing --post hook: thawed first, exit 5 naming it; a failing CMD: its own status, post hooks told', async (t) => {
  if (!requireLoop(t, 'xfs')) return;
  const fs = loopFs('xfs');
  const { dir: out, cleanup } = tempDir();
  try {
    const a = rill(['freeze', '--post', `touch '${fs.dir}/post-wrote'; exit 4`, fs.dir, '--', 'true']);
    assert.equal(a.code, 5, a.stderr);
    assert.match(a.stderr, /--post hook ".*exit 4" failed with exit status 4/);
    assert.ok(existsSync(join(fs.dir, 'post-wrote')), 'the post hook ran after the thaw (it could write)');
    const b = rill(['freeze', '--post', `echo "$RILL_FREEZE_STATUS" > '${out}/post'`, fs.dir, '--', 'sh', '-c', 'exit 9']);
    assert.equal(b.code, 9, b.stderr);
    assert.match(b.stderr, /the command "sh -c exit 9" failed with exit status 9/);
    assert.equal(readFileSync(join(out, 'post'), 'utf8'), 'failed\n');
    await notFrozen(fs.dir);
  } finally {
    cleanup();
    fs.cleanup();
  }
});

test('a hanging hook is stopped at --timeout; a hanging CMD is stopped at the deadline, thawed, exit 124', async (t) => {
  if (!requireLoop(t, 'ext4')) return;
  const fs = loopFs('ext4');
  try {
    const t0 = performance.now();
    const a = rill(['freeze', '--timeout', '1', '--pre', 'sleep 60', fs.dir, '--', 'true']);
    assert.equal(a.code, 5, a.stderr);
    assert.match(a.stderr, /--pre hook "sleep 60" did not finish within 1 s \(--timeout\) and was stopped: nothing was frozen/);
    assert.ok(performance.now() - t0 < 8000);
    const t1 = performance.now();
    const b = rill(['freeze', '--timeout', '1.5', fs.dir, '--', 'sleep', '60']);
    const took = performance.now() - t1;
    assert.equal(b.code, 124, b.stderr);
    assert.match(b.stderr, /the 1\.5 s deadline \(--timeout\) came while .* was frozen: thawed it and stopped what was running/);
    assert.ok(took < 8000, `took ${took} ms`);
    await notFrozen(fs.dir);
  } finally {
    fs.cleanup();
  }
});
