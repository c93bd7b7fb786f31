// sqlite3 as the writer: transactions from two concurrent processes (rollback journal and WAL), then
// on the replica PRAGMA integrity_check and the row counts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { CACHES, mountDirs, must, requireFuse, requireTool, startCapture, stopAndVerify } from './harness.js';

/** SQL of `n` transactions by writer `w`: inserts, an update and a delete in each. */
function transactions(w: number, n: number): string {
  let sql = '.timeout 20000\n';
  for (let i = 0; i < n; i++) {
    sql += `BEGIN IMMEDIATE; INSERT INTO t(w, i, body) VALUES (${w}, ${i}, randomblob(${200 + ((i * 37) % 3000)}));`;
    sql += ` INSERT INTO t(w, i, body) VALUES (${w}, ${i + n}, zeroblob(100)); UPDATE t SET body = randomblob(50) WHERE w = ${w} AND i = ${i};`;
    sql += ` DELETE FROM t WHERE w = ${w} AND i = ${i + n} AND ${i} % 2 = 0; COMMIT;\n`;
  }
  return sql;
}

function sqlite(db: string, sql: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn('sqlite3', [db], { stdio: ['pipe', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`sqlite3 ${db} exited ${code}: ${err}`))));
    p.stdin.end(sql);
  });
}

for (const [label, cache] of CACHES) {
  test(`sqlite3 transactions (rollback journal and WAL, two writers) give an intact replica${label}`, async (t) => {
    if (!requireFuse(t) || !requireTool(t, 'sqlite3')) return;
    const { root, rep, cleanup } = mountDirs('rill-mount-sqlite-');
    const run = await startCapture(root, rep, cache);
    const N = 150;
    try {
      for (const mode of ['delete', 'wal']) {
        const db = join(root, `${mode}.db`);
        must('sqlite3', [db, `PRAGMA journal_mode=${mode}; CREATE TABLE t(id INTEGER PRIMARY KEY, w INT, i INT, body BLOB); CREATE INDEX ti ON t(w, i);`]);
        await Promise.all([sqlite(db, transactions(1, N)), sqlite(db, transactions(2, N))]);
        // a checkpoint folds the WAL into the database file: both shapes get replicated
        if (mode === 'wal') must('sqlite3', [db, 'PRAGMA wal_checkpoint(TRUNCATE);']);
      }
      const counts = ['delete', 'wal'].map((m) => must('sqlite3', [join(root, `${m}.db`), 'SELECT count(*), sum(length(body)) FROM t;']));
      // first: the checks below open the databases and repositories, which changes them
      await stopAndVerify(run, root, rep);
      ['delete', 'wal'].forEach((m, k) => {
        const db = join(rep, `${m}.db`);
        assert.equal(must('sqlite3', [db, 'PRAGMA integrity_check;']).trim(), 'ok', `${m}: integrity`);
        assert.equal(must('sqlite3', [db, 'SELECT count(*), sum(length(body)) FROM t;']), counts[k]);
        assert.equal(must('sqlite3', [db, 'SELECT count(*) FROM t;']).trim(), String(2 * (N + N / 2)));
      });
    } finally {
      run.cleanup();
      cleanup();
    }
  });
}
