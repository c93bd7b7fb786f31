// rill freeze on real loop-mounted ext4 and xfs: writers block while frozen and complete after the
// thaw; CMD and hooks see the environment; the frozen window is what CMD took.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { rill } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';
import { loopFs, requireLoop, type FsType } from './loop.js';
import { start, waitFor, timedWrite } from './run.js';

for (const type of ['ext4', 'xfs'] as FsType[]) {
  test(`${type}: a writer running blocks while frozen and completes after the thaw`, async (t) => {
    if (!requireLoop(t, type)) return;
    const fs = loopFs(type);
    const { dir: out, cleanup } = tempDir();
    const writer = spawn('sh', ['-c', `i=0; while :; do echo "line $i" >> '${fs.dir}/log'; i=$((i+1)); done`], { stdio: 'ignore' });
    try {
      await waitFor(join(fs.dir, 'log'));
      // While frozen: the log's size stays put, and a new write does not return.
      const cmd = `stat -c %s '${fs.dir}/log' > '${out}/before'; (echo late > '${fs.dir}/late'; touch '${out}/late-done') & sleep 1; stat -c %s '${fs.dir}/log' > '${out}/after'; test -e '${out}/late-done' && touch '${out}/too-early'; exit 0`;
      const r = rill(['freeze', '--timeout', '10', '--verbose', fs.dir, '--', 'sh', '-c', cmd]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, new RegExp(`froze ${fs.dir} \\(${type} on /dev/loop\\d+\\)`));
      assert.match(r.stderr, /thawed .* after \d+\.\d ms frozen/);
      assert.equal(readFileSync(join(out, 'before'), 'utf8'), readFileSync(join(out, 'after'), 'utf8'), 'the running writer made no progress while frozen');
      assert.equal(existsSync(join(out, 'too-early')), false, 'a write returned while frozen');
      await waitFor(join(out, 'late-done'), 5000, 'the write blocked by the freeze');
      assert.equal(readFileSync(join(fs.dir, 'late'), 'utf8'), 'late\n');
      const size = statSync(join(fs.dir, 'log')).size;
      await sleep(200);
      assert.ok(statSync(join(fs.dir, 'log')).size > size, 'the running writer goes on after the thaw');
    } finally {
      writer.kill('SIGKILL');
      await new Promise((resolve) => (writer.exitCode !== null ? resolve(undefined) : writer.once('exit', resolve)));
      cleanup();
      fs.cleanup();
    }
  });

  test(`${type}: kill -9 of rill freeze: the watchdog thaws at once and says so; CMD is stopped`, async (t) => {
    if (!requireLoop(t, type)) return;
    const fs = loopFs(type);
    const { dir: out, cleanup } = tempDir();
    try {
      const f = start(['freeze', '--timeout', '5', fs.dir, '--', 'sh', '-c', `touch '${out}/frozen'; sleep 30; touch '${out}/cmd-survived'`]);
      await waitFor(join(out, 'frozen'));
      f.child.kill('SIGKILL');
      const took = await timedWrite(join(fs.dir, 'after-kill'));
      assert.ok(took < 5000, `the write waited ${took} ms: more than the 5 s deadline`);
      const r = await f.done;
      assert.equal(r.signal, 'SIGKILL');
      assert.match(r.stderr, new RegExp(`rill freeze: watchdog: thawed .*\\(${type} on /dev/loop\\d+\\) after \\d+ ms: rill freeze \\(pid \\d+\\) ended without thawing it`));
      await sleep(300);
      assert.equal(existsSync(join(out, 'cmd-survived')), false, 'CMD was stopped with rill');
    } finally {
      cleanup();
      fs.cleanup();
    }
  });

  test(`${type}: rill freeze stopped (SIGSTOP): the watchdog thaws at the --timeout deadline`, async (t) => {
    if (!requireLoop(t, type)) return;
    const fs = loopFs(type);
    const { dir: out, cleanup } = tempDir();
    try {
      const f = start(['freeze', '--timeout', '2', fs.dir, '--', 'sh', '-c', `touch '${out}/frozen'; sleep 30`]);
      await waitFor(join(out, 'frozen'));
      const t0 = performance.now();
      f.child.kill('SIGSTOP');
      const took = await timedWrite(join(fs.dir, 'after-stop'));
      const since = performance.now() - t0;
      assert.ok(took > 800, `the write returned after ${took} ms: the file system was not frozen`);
      assert.ok(since < 2000 + 1500, `thawed ${since} ms after the stop: past the 2 s deadline`);
      f.child.kill('SIGCONT');
      const r = await f.done;
      assert.equal(r.code, 124, r.stderr);
      assert.match(r.stderr, /watchdog: thawed .* the 2 s deadline \(--timeout\) passed and rill freeze \(pid \d+\) had not thawed it/);
      assert.match(r.stderr, /the 2 s deadline \(--timeout\) came while .* was frozen/);
    } finally {
      cleanup();
      fs.cleanup();
    }
  });
}

test('SIGTERM and SIGINT while frozen thaw at once (143, 130); post hooks run with RILL_FREEZE_STATUS=failed', async (t) => {
  if (!requireLoop(t, 'ext4')) return;
  const fs = loopFs('ext4');
  const { dir: out, cleanup } = tempDir();
  try {
    for (const [sig, code] of [['SIGTERM', 143], ['SIGINT', 130]] as const) {
      const flag = join(out, `frozen-${sig}`);
      const f = start(['freeze', '--timeout', '20', '--post', `echo "$RILL_FREEZE_STATUS" > '${out}/post-${sig}'`, fs.dir, '--', 'sh', '-c', `touch '${flag}'; sleep 30`]);
      await waitFor(flag);
      const t0 = performance.now();
      f.child.kill(sig);
      const took = await timedWrite(join(fs.dir, `after-${sig}`));
      assert.ok(performance.now() - t0 < 3000, `${sig}: thawed only after ${took} ms`);
      const r = await f.done;
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, new RegExp(`${sig}: thawed .* at once`));
      assert.equal(readFileSync(join(out, `post-${sig}`), 'utf8'), 'failed\n');
    }
  } finally {
    cleanup();
    fs.cleanup();
  }
});

test('hooks and CMD see RILL_ROOT, RILL_BOOKMARK, RILL_PHASE; pre runs before the freeze, post after the thaw', async (t) => {
  if (!requireLoop(t, 'xfs')) return;
  const fs = loopFs('xfs');
  const { dir: out, cleanup } = tempDir();
  try {
    const log = join(out, 'log');
    // pre and post can write to the file system (not frozen then); CMD only reads.
    const r = rill([
      'freeze', '--pre', `echo "pre $RILL_PHASE $RILL_ROOT" >> '${log}'; echo pre > '${fs.dir}/by-pre'`,
      '--post', `echo "post $RILL_PHASE $RILL_FREEZE_STATUS" >> '${log}'; echo post > '${fs.dir}/by-post'`,
      fs.dir, '--', 'sh', '-c', `echo "cmd $RILL_ROOT $(cat '${fs.dir}/by-pre')" >> '${log}'`,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(readFileSync(log, 'utf8'), `pre pre ${fs.dir}\ncmd ${fs.dir} pre\npost post ok\n`);
    assert.equal(readFileSync(join(fs.dir, 'by-post'), 'utf8'), 'post\n');
  } finally {
    cleanup();
    fs.cleanup();
  }
});

test('the watchdog killed while frozen: rill thaws at once and fails (exit 5) rather than go on unguarded', async (t) => {
  if (!requireLoop(t, 'ext4')) return;
  const fs = loopFs('ext4');
  const { dir: out, cleanup } = tempDir();
  try {
    const f = start(['freeze', '--timeout', '20', fs.dir, '--', 'sh', '-c', `touch '${out}/frozen'; sleep 3`]);
    await waitFor(join(out, 'frozen'));
    const ps = spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(f.child.pid)], { encoding: 'utf8' }).stdout;
    const dog = ps.split('\n').find((l) => l.includes('watchdog-main'));
    assert.ok(dog !== undefined, `the watchdog is a child of rill freeze: ${ps}`);
    process.kill(Number(dog.trim().split(/\s+/)[0]), 'SIGKILL');
    const took = await timedWrite(join(fs.dir, 'after'));
    assert.ok(took < 2000, `thawed only after ${took} ms`);
    const r = await f.done;
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /the freeze watchdog \(pid \d+\) ended \(status 137\) while .* was frozen; thawing at once/);
    assert.match(r.stderr, /thawed .* at once, before the command was done/);
  } finally {
    cleanup();
    fs.cleanup();
  }
});
