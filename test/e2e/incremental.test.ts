// Incremental replication as a cron job runs it: capture --scan --state | replay, round after
// round of random changes to the source (writes, appends, truncates, renames of files and
// directories, deletes, chmod, xattrs, hard links, symlink changes); after every round the replica
// must equal the source, and the stash must be empty again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, chmodSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, symlinkSync, truncateSync, unlinkSync, writeSync, closeSync, existsSync, writeFileSync } from 'node:fs';
import fc from 'fast-check';
import { makeTree, tempDir, isRoot, requireCapability } from '../helpers/tree.js';
import { sh, q } from '../helpers/cli.js';
import { treeArb } from '../helpers/random-tree.js';
import { sys } from '../../src/sys/native.js';

/** Every entry below root (paths relative to it), parents before children. */
function entries(root: string, rel = ''): { path: string; dir: boolean; file: boolean }[] {
  const out: { path: string; dir: boolean; file: boolean }[] = [];
  for (const raw of readdirSync(rel === '' ? root : `${root}/${rel}`, { encoding: 'buffer' })) {
    const name = raw.toString();
    if (!Buffer.from(name).equals(raw)) continue; // a non-UTF-8 name stays as it is (node's string paths cannot name it)
    const path = rel === '' ? name : `${rel}/${name}`;
    const st = lstatSync(`${root}/${path}`);
    out.push({ path, dir: st.isDirectory(), file: st.isFile() });
    if (st.isDirectory()) out.push(...entries(root, path));
  }
  return out;
}

const opArb = fc.record({
  kind: fc.constantFrom('write', 'append', 'truncate', 'rename', 'renameDir', 'swap', 'delete', 'chmod', 'xattr', 'link', 'symlink', 'create', 'mkdir', 'moveInto'),
  a: fc.nat(),
  b: fc.nat(),
  n: fc.integer({ min: 0, max: 200_000 }),
  byte: fc.integer({ min: 0, max: 255 }),
});
type Op = typeof opArb extends fc.Arbitrary<infer T> ? T : never;

let fresh = 0;
/** Applies one change to the tree at root, choosing its targets among the current entries. */
function mutate(root: string, op: Op): void {
  const all = entries(root);
  const files = all.filter((e) => e.file);
  const dirs = all.filter((e) => e.dir);
  const pick = <T>(list: T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);
  const dirOf = (i: number): string => pick(['', ...dirs.map((d) => d.path)], i)!;
  const at = (p: string): string => (p === '' ? root : `${root}/${p}`);
  const newName = (): string => `n${fresh++}`;
  const f = pick(files, op.a);
  const any = pick(all, op.a);
  try {
    switch (op.kind) {
      case 'write':
        if (f) {
          const fd = openSync(at(f.path), 'r+');
          writeSync(fd, Buffer.alloc(1 + (op.n % 9000), op.byte), 0, 1 + (op.n % 9000), op.n);
          closeSync(fd);
        }
        break;
      case 'append':
        if (f) appendFileSync(at(f.path), Buffer.alloc(op.n % 70_000, op.byte));
        break;
      case 'truncate':
        if (f) truncateSync(at(f.path), op.n % 100_000);
        break;
      case 'rename':
        if (any && !any.dir) renameSync(at(any.path), `${at(dirOf(op.b))}/${newName()}`);
        break;
      case 'renameDir': {
        const d = pick(dirs, op.a);
        const to = dirOf(op.b);
        if (d && to !== d.path && !to.startsWith(`${d.path}/`)) renameSync(at(d.path), `${at(to)}/${newName()}`);
        break;
      }
      case 'swap': {
        const g = pick(files, op.b);
        if (f && g && f.path !== g.path) {
          const tmp = `${root}/${newName()}`;
          renameSync(at(f.path), tmp);
          renameSync(at(g.path), at(f.path));
          renameSync(tmp, at(g.path));
        }
        break;
      }
      case 'delete':
        if (any) rmSync(at(any.path), { recursive: true, force: true });
        break;
      case 'chmod':
        if (any && !lstatSync(at(any.path)).isSymbolicLink()) chmodSync(at(any.path), any.dir ? 0o700 | (op.n & 0o55) : op.n & 0o777);
        break;
      case 'xattr':
        if (any && !lstatSync(at(any.path)).isSymbolicLink()) {
          if (op.byte % 3 === 0) {
            try {
              sys.removeXattr(at(any.path), 'user.p');
            } catch {
              // had none
            }
          } else sys.setXattr(at(any.path), 'user.p', Buffer.alloc(op.byte % 50, op.byte));
        }
        break;
      case 'link':
        if (f) linkSync(at(f.path), `${at(dirOf(op.b))}/${newName()}`);
        break;
      case 'symlink': {
        const name = `${at(dirOf(op.b))}/${newName()}`;
        symlinkSync(`target-${op.n}`, name);
        if (any && !any.dir) renameSync(name, at(any.path)); // a symlink replaces an entry
        break;
      }
      case 'create':
        writeFileSync(`${at(dirOf(op.b))}/${newName()}`, Buffer.alloc(op.n % 100_000, op.byte));
        break;
      case 'mkdir':
        mkdirSync(`${at(dirOf(op.b))}/${newName()}`);
        break;
      case 'moveInto': {
        // a file moved into a directory that is new in this round
        const d = `${at(dirOf(op.b))}/${newName()}`;
        mkdirSync(d);
        if (f) renameSync(at(f.path), `${d}/${newName()}`);
        break;
      }
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EISDIR' && code !== 'ENOTDIR' && code !== 'EEXIST' && code !== 'ENOTEMPTY' && code !== 'EINVAL') throw err;
  }
}

/** One round: capture against the state, replay, verify; returns the capture's stderr. */
function round(src: string, rep: string, state: string): void {
  const r = sh(`rill capture --scan --state ${q(state)} ${q(src)} | rill replay ${q(rep)} && rill verify ${q(src)} ${q(rep)}`);
  if (r.code !== 0) process.stderr.write(`round failed (${r.code}):\n${r.stdout.toString()}${r.stderr}\n`);
  assert.equal(r.code, 0, `round failed (${r.code}):\n${r.stdout.toString()}${r.stderr}`);
  const stash = `${rep}/.rill/stash`;
  assert.deepEqual(existsSync(stash) ? readdirSync(stash) : [], [], 'the stash is empty after a change set');
}

test('incremental rounds keep the replica identical (property, random trees and random changes)', { timeout: 600_000 }, (t) => {
  if (!requireCapability(t, isRoot, 'root (ownership and trusted.* xattrs in the random trees)')) return;
  fc.assert(
    fc.property(treeArb, fc.array(fc.array(opArb, { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 3 }), (tree, rounds) => {
      const { dir, cleanup } = tempDir('rill-incr-');
      try {
        const src = `${dir}/src`;
        makeTree(src, tree.entries, tree.meta);
        round(src, `${dir}/rep`, `${dir}/state`);
        for (const ops of rounds) {
          for (const op of ops) mutate(src, op);
          round(src, `${dir}/rep`, `${dir}/state`);
        }
      } catch (err) {
        process.stderr.write(`incremental property: ${(err as Error).stack}\n`);
        throw err;
      } finally {
        cleanup();
      }
    }),
    // Each run costs seconds (real processes): shrinking a failure would take too long, so report it as found.
    {
      numRuns: Number(process.env.RILL_PROPERTY_RUNS ?? 10),
      endOnFailure: true,
      ...(process.env.RILL_PROPERTY_SEED === undefined ? {} : { seed: Number(process.env.RILL_PROPERTY_SEED), path: process.env.RILL_PROPERTY_PATH }),
    },
  );
});

test('a no-op incremental run sends no entry events and a rename of a large directory is one rename each way', (t) => {
  if (!requireCapability(t, isRoot, 'root')) return;
  const { dir, cleanup } = tempDir('rill-incr-');
  try {
    const src = `${dir}/src`;
    mkdirSync(`${src}/big/sub`, { recursive: true });
    for (let i = 0; i < 200; i++) writeFileSync(`${src}/big/sub/f${i}`, `file ${i}\n`.repeat(100));
    round(src, `${dir}/rep`, `${dir}/state`);
    const dump = (): { type: string }[] =>
      sh(`rill capture --scan --state ${q(`${dir}/state`)} ${q(src)} | tee ${q(`${dir}/s.rill`)} | rill dump`)
        .stdout.toString()
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { type: string })
        .filter((r) => r.type !== 'header' && r.type !== 'end');
    assert.deepEqual(dump().map((e) => e.type), ['note', 'commit']);
    sh(`rill replay ${q(`${dir}/rep`)} ${q(`${dir}/s.rill`)}`);
    renameSync(`${src}/big`, `${src}/moved`);
    const events = dump();
    assert.deepEqual(events.filter((e) => e.type !== 'utimes').map((e) => e.type), ['note', 'rename', 'rename', 'commit']);
    const r = sh(`rill replay ${q(`${dir}/rep`)} ${q(`${dir}/s.rill`)} && rill verify ${q(src)} ${q(`${dir}/rep`)}`);
    assert.equal(r.code, 0, r.stderr);
  } finally {
    cleanup();
  }
});

test('a write into a large file sends the changed block only', (t) => {
  if (!requireCapability(t, isRoot, 'root')) return;
  const { dir, cleanup } = tempDir('rill-incr-');
  try {
    const src = `${dir}/src`;
    mkdirSync(src);
    writeFileSync(`${src}/big`, Buffer.alloc(8 << 20, 3));
    round(src, `${dir}/rep`, `${dir}/state`);
    const fd = openSync(`${src}/big`, 'r+');
    writeSync(fd, Buffer.from('changed'), 0, 7, 5 << 20);
    closeSync(fd);
    const r = sh(`rill capture --scan --state ${q(`${dir}/state`)} ${q(src)} | tee ${q(`${dir}/s.rill`)} | rill dump | jq -s '[.[] | select(.type == "write") | .data.length] | add'`);
    assert.equal(r.stdout.toString().trim(), String(64 * 1024), 'one 64 KiB block (the default block size)');
    assert.equal(sh(`rill replay ${q(`${dir}/rep`)} ${q(`${dir}/s.rill`)} && rill verify ${q(src)} ${q(`${dir}/rep`)}`).code, 0);
    unlinkSync(`${src}/big`);
  } finally {
    cleanup();
  }
});

test('a replica changed behind rill’s back: verify finds it, a --full capture repairs it', (t) => {
  if (!requireCapability(t, isRoot, 'root')) return;
  const { dir, cleanup } = tempDir('rill-incr-');
  try {
    const src = `${dir}/src`;
    const rep = `${dir}/rep`;
    mkdirSync(`${src}/d`, { recursive: true });
    writeFileSync(`${src}/d/a`, 'a'.repeat(100_000));
    writeFileSync(`${src}/b`, 'b');
    round(src, rep, `${dir}/state`);
    writeFileSync(`${rep}/d/a`, 'tampered');
    writeFileSync(`${rep}/extra`, 'not in the source');
    mkdirSync(`${rep}/extra-dir/sub`, { recursive: true });
    unlinkSync(`${rep}/b`);
    const found = sh(`rill verify ${q(src)} ${q(rep)}`);
    assert.equal(found.code, 1, 'verify reports the difference');
    const repaired = sh(`rill capture --scan --state ${q(`${dir}/state`)} --full ${q(src)} | rill replay ${q(rep)} && rill verify ${q(src)} ${q(rep)}`);
    assert.equal(repaired.code, 0, repaired.stderr);
    round(src, rep, `${dir}/state`); // and change sets follow on from the repaired state
  } finally {
    cleanup();
  }
});
