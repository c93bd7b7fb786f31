// What freeze refuses or cannot do, each with a message naming the file system and what to do:
// the root file system, one holding a journal, state or output written while frozen, a file system
// that cannot be frozen, one frozen already; and a path that is not a mount point.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { q, RILL, rill, sh } from '../helpers/cli.js';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';
import { loopFs, requireLoop } from './loop.js';
import { timedWrite } from './run.js';

test('the root file system is refused without --force (exit 4), as is a path on it', () => {
  for (const path of ['/', '/etc']) {
    const r = rill(['freeze', path, '--', 'true']);
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /refusing to freeze the root file system \/ \(\S+ on \S+\).*pass --force if you really mean \//);
  }
});

test('a file system holding the command\'s --state, --journal or --output, or rill\'s redirected stdout, is refused (exit 4)', async (t) => {
  if (!requireLoop(t, 'ext4')) return;
  const fs = loopFs('ext4');
  try {
    mkdirSync(join(fs.dir, 'data'));
    for (const [flag, value] of [['--state', join(fs.dir, 's.state')], ['--journal', join(fs.dir, 'journal')], ['--output', join(fs.dir, 'out.rill')]]) {
      const r = rill(['freeze', fs.dir, '--', 'rill', 'capture', '--scan', flag!, value!, join(fs.dir, 'data')]);
      assert.equal(r.code, 4, r.stderr);
      assert.match(r.stderr, new RegExp(`refusing to freeze ${fs.dir} \\(ext4 on /dev/loop\\d+\\): it holds the command's ${flag} "${value}", which is written while frozen`));
    }
    const eq = rill(['freeze', fs.dir, '--', 'rill', 'capture', '--scan', `--state=${fs.dir}/s`, join(fs.dir, 'data')]);
    assert.equal(eq.code, 4, eq.stderr);
    const redirected = sh(`rill freeze ${q(fs.dir)} -- true > ${q(join(fs.dir, 'out'))}`);
    assert.equal(redirected.code, 4, redirected.stderr);
    assert.match(redirected.stderr, /it holds rill's stdout \(redirected to the file\) ".*\/out"/);
    const tmp = spawnSync(process.execPath, [RILL, 'freeze', fs.dir, '--', 'true'], { env: { ...process.env, TMPDIR: join(fs.dir, 'data') }, encoding: 'utf8' });
    assert.equal(tmp.status, 4, tmp.stderr);
    assert.match(tmp.stderr, /it holds the temporary directory \(TMPDIR\) the command may write/);
    const took = await timedWrite(join(fs.dir, 'still-writable'));
    assert.ok(took < 1500);
  } finally {
    fs.cleanup();
  }
});

test('a path that is not a mount point freezes the file system holding it, and says which', async (t) => {
  if (!requireLoop(t, 'xfs')) return;
  const fs = loopFs('xfs');
  try {
    mkdirSync(join(fs.dir, 'sub'));
    writeFileSync(join(fs.dir, 'sub/f'), 'x');
    const r = rill(['freeze', '--verbose', join(fs.dir, 'sub/f'), '--', 'sh', '-c', 'echo "$RILL_ROOT $RILL_MOUNT"']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`^rill freeze: "${fs.dir}/sub/f" is not a mount point: freezing the file system that holds it, ${fs.dir} \\(xfs on /dev/loop\\d+\\)\n`));
    assert.match(r.stderr, new RegExp(`froze ${fs.dir} \\(xfs`));
    assert.equal(r.stdout.toString(), `${fs.dir}/sub/f ${fs.dir}\n`, 'RILL_ROOT is the path given, RILL_MOUNT the file system frozen');
  } finally {
    fs.cleanup();
  }
});

test('a file system without FIFREEZE (tmpfs): exit 5, "does not support freezing"', (t) => {
  const dir = mkdtempSync('/var/tmp/rill-freeze-tmpfs-');
  const mounted = isRoot && spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]).status === 0;
  try {
    if (!requireCapability(t, mounted, 'root and mount -t tmpfs')) return;
    const r = rill(['freeze', dir, '--', 'true']);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`^rill freeze: ${dir} \\(tmpfs on tmpfs\\) does not support freezing \\(tmpfs has no FIFREEZE\\) \\(EOPNOTSUPP\\); freeze a file system that supports it`));
  } finally {
    if (mounted) execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a file system frozen already (fsfreeze): exit 8, and it stays as its freezer left it', async (t) => {
  if (!requireLoop(t, 'ext4')) return;
  const fs = loopFs('ext4');
  try {
    execFileSync('fsfreeze', ['--freeze', fs.dir]);
    try {
      const r = rill(['freeze', fs.dir, '--', 'true']);
      assert.equal(r.code, 8, r.stderr);
      assert.match(r.stderr, /is frozen already \(by another rill freeze or fsfreeze\) \(EBUSY\); wait for it to be thawed/);
    } finally {
      execFileSync('fsfreeze', ['--unfreeze', fs.dir]);
    }
  } finally {
    fs.cleanup();
  }
});

test('usage: a bad bookmark name, --bookmark without CMD or --control, a bad --timeout (exit 2)', () => {
  const cases: [string[], RegExp][] = [
    [['freeze', '--bookmark', 'a b', '/var/tmp', '--', 'true'], /--bookmark: "a b" is not a valid bookmark name/],
    [['freeze', '--bookmark', 'nightly', '/var/tmp'], /--bookmark without --control needs -- CMD writing a rill stream/],
    [['freeze', '--timeout', 'soon', '/var/tmp'], /--timeout "soon" is not a duration/],
  ];
  for (const [args, message] of cases) {
    const r = rill(args);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});

test('not root: FIFREEZE is refused by the kernel, exit 5 "needs root (CAP_SYS_ADMIN)"', (t) => {
  if (!requireLoop(t, 'ext4')) return;
  const fs = loopFs('ext4');
  try {
    chmodSync(dirname(fs.dir), 0o755); // nobody may reach the mount point
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, RILL, 'freeze', fs.dir, '--', 'true'], { encoding: 'utf8' });
    assert.equal(r.status, 5, r.stderr);
    assert.match(r.stderr, /^rill freeze: freezing .* \(ext4 on \/dev\/loop\d+\) needs root \(CAP_SYS_ADMIN\) \(EPERM\)\n$/);
  } finally {
    fs.cleanup();
  }
});
