// The point of it all: sqlite3 writing in a loop on a real ext4, a bookmark taken by
// `rill freeze --bookmark bN FS -- rill capture --scan --state S FS/db` a few times, and each
// replay --until bN giving a database that passes PRAGMA integrity_check, with more rows each time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { q, rill, sh } from '../helpers/cli.js';
import { requireCapability, tempDir } from '../helpers/tree.js';
import { loopFs, requireLoop } from './loop.js';

const hasSqlite = spawnSync('sqlite3', ['-version'], { stdio: 'ignore' }).status === 0;

function sql(db: string, query: string): string {
  const r = spawnSync('sqlite3', ['-cmd', '.timeout 10000', db, query], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

test('sqlite3 writing in a loop: replaying to each freeze bookmark gives a database passing integrity_check', async (t) => {
  if (!requireLoop(t, 'ext4') || !requireCapability(t, hasSqlite, 'sqlite3')) return;
  const fs = loopFs('ext4');
  const { dir: work, cleanup } = tempDir();
  const data = join(fs.dir, 'db');
  mkdirSync(data);
  const db = join(data, 'app.db');
  sql(db, 'PRAGMA journal_mode=WAL; CREATE TABLE t (id INTEGER PRIMARY KEY, a BLOB, b BLOB, n INTEGER)');
  // Many statements per transaction, pages all over the file: a torn copy fails the check.
  const writer = spawn('sh', ['-c', `while :; do echo "BEGIN; INSERT INTO t(a,b,n) VALUES (randomblob(3000), randomblob(700), 1); UPDATE t SET n = n + 1, b = randomblob(700) WHERE id % 7 = abs(random()) % 7; DELETE FROM t WHERE id % 13 = 0 AND abs(random()) % 5 = 0; COMMIT;"; done | sqlite3 '${db}'`], { stdio: 'ignore', detached: true });
  try {
    while (!existsSync(db) || Number(sql(db, 'SELECT count(*) FROM t')) < 50) await sleep(50);
    const streams: string[] = [];
    for (let i = 1; i <= 3; i++) {
      const file = join(work, `inc${i}.rill`);
      const r = sh(`rill freeze --timeout 30 --bookmark b${i} ${q(fs.dir)} -- rill capture --scan --state ${q(join(work, 'db.state'))} ${q(data)} > ${q(file)}`);
      assert.equal(r.code, 0, r.stderr);
      streams.push(file);
      await sleep(400);
    }
    const marks = rill(['dump', '--bookmarks', ...streams]).stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as { name: string; consistent: boolean });
    assert.deepEqual(marks.map((m) => [m.name, m.consistent]), [['b1', true], ['b2', true], ['b3', true]]);
    let rows = 0;
    for (let i = 1; i <= 3; i++) {
      const replica = join(work, `r${i}`);
      const r = rill(['replay', '--until', `b${i}`, replica, ...streams]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sql(join(replica, 'app.db'), 'PRAGMA integrity_check'), 'ok', `the replica at b${i}`);
      const n = Number(sql(join(replica, 'app.db'), 'SELECT count(*) FROM t'));
      assert.ok(n > rows, `rows at b${i} (${n}) more than at the bookmark before (${rows})`);
      rows = n;
    }
  } finally {
    try {
      process.kill(-writer.pid!, 'SIGKILL');
    } catch {
      // gone
    }
    await sleep(100);
    cleanup();
    fs.cleanup();
  }
});
