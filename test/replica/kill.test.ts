// Invariant 2 for real: `rill replay` killed with SIGKILL at random points (while busy, or waiting
// for a stream that trickles in), once or twice, then rerun with the same stream to the end, gives
// exactly the tree of an uninterrupted run. Two streams: a change stream whose transactions are
// unsafe to apply twice (churn.ts), and a full stream into a replica with extras (the sweep).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRoot, makeTree, requireCapability, tempDir, type EntrySpec, type MetaSpec } from '../helpers/tree.js';
import { decode } from '../helpers/codec.js';
import { RILL, q, rill, sh } from '../helpers/cli.js';
import { applyRecords } from '../../src/replica/index.js';
import { StreamEncoder } from '../../src/stream/encode.js';
import { readBatches } from '../../src/stream/inputs.js';
import { verifyTrees } from '../../src/verify/verify.js';
import type { Event, StreamRecord } from '../../src/stream/events.js';
import { churn } from './churn.js';
import { temps } from './helpers.js';

/** Records to bytes in small frames, so that replay applies a few events at a time. */
async function frames(records: StreamRecord[]): Promise<Buffer> {
  const enc = new StreamEncoder(undefined, { frameBytes: 400 });
  const out: Buffer[] = [];
  enc.on('data', (c: Buffer) => out.push(Buffer.from(c)));
  const done = new Promise((resolve) => enc.on('end', resolve));
  enc.write(records);
  enc.end();
  await done;
  return Buffer.concat(out);
}

/** How far the replica got: the seq in its mark, else in its state file. */
function progress(root: string): number {
  try {
    const mark = readFileSync(join(root, '.rill/inflight'), 'utf8').trim();
    if (mark !== '') return (JSON.parse(mark) as { seq: number }).seq;
  } catch {
    // not there yet, or being written
  }
  try {
    return (JSON.parse(readFileSync(join(root, '.rill/state.json'), 'utf8')) as { lastSeq: number }).lastSeq;
  } catch {
    return -1;
  }
}

/**
 * Runs `rill replay root` on the stream and kills it (SIGKILL) a random moment after the replica
 * got to seq `at`. `trickle`: the stream arrives in small pieces. True when it was killed before
 * finishing.
 */
async function killAt(root: string, bytes: Buffer, at: number, trickle: boolean): Promise<boolean> {
  const child = spawn(process.execPath, [RILL, 'replay', root], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.on('error', () => {});
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let over = false;
  void exited.then(() => (over = true));
  const feed = (async () => {
    if (!trickle) return child.stdin.end(bytes);
    for (let i = 0; i < bytes.length && !over; i += 1500) {
      child.stdin.write(bytes.subarray(i, i + 1500));
      await sleep(1);
    }
    child.stdin.end();
  })();
  for (let waited = 0; !over && progress(root) < at && waited < 20_000; waited += 2) await sleep(2);
  await sleep(Math.random() * 6);
  child.kill('SIGKILL');
  const { code, signal } = await exited;
  await feed;
  assert.ok(signal === 'SIGKILL' || code === 0, `replay failed on its own (${code}): ${stderr}`);
  return signal === 'SIGKILL';
}

async function differences(a: string, b: string): Promise<string[]> {
  const found: string[] = [];
  await verifyTrees(a, b, {}, (d) => {
    found.push(JSON.stringify(d, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
  });
  return found;
}

/**
 * Trials: kill once or twice at random progress, rerun to the end, compare with `want`. `prepare`
 * makes each trial's replica as it is before the stream. Two at a time. Returns how many kills
 * landed mid-stream.
 */
async function trials(n: number, file: string, last: number, want: string, dir: string, prepare: (root: string) => void): Promise<number> {
  const bytes = readFileSync(file);
  let interrupted = 0;
  const one = async (i: number): Promise<void> => {
    const root = join(dir, `t${i}`);
    prepare(root);
    const kills: string[] = [];
    for (let k = 0; k < (i % 3 === 2 ? 2 : 1); k++) {
      const at = Math.floor(Math.random() * last * 0.9); // near the end, the replay may finish before the kill
      const trickle = Math.random() < 0.4;
      const killed = await killAt(root, bytes, at, trickle);
      kills.push(`at ${at}${trickle ? ' (trickle)' : ''}: ${killed ? `killed at ${progress(root)}` : 'finished'}`);
      if (killed && progress(root) < last) interrupted++;
    }
    const where = `trial ${i}, ${kills.join('; ')}`;
    await applyRecords(readBatches([file]), root, { log: () => {} });
    if (i % 10 === 0) {
      const r = rill(['verify', want, root]);
      assert.equal(r.code, 0, `${where}: ${r.stdout.toString()}${r.stderr}`);
    } else {
      assert.deepEqual(await differences(want, root), [], where);
    }
    assert.deepEqual(temps(root), [], where);
    assert.deepEqual(readdirSync(join(root, '.rill/stash')), [], where);
    assert.equal(progress(root), last, where);
  };
  const lane = async (first: number): Promise<void> => {
    for (let i = first; i < n; i += 2) await one(i);
  };
  await Promise.all([lane(0), lane(1)]);
  return interrupted;
}

test('kill -9 of a replay of changes at random points, then a rerun: the same tree as an uninterrupted run', async (t) => {
  if (!requireCapability(t, isRoot, 'root (ownership compared by verify)')) return;
  const { dir, cleanup } = tempDir();
  try {
    const events = churn(12).map((e, i) => ({ ...e, seq: i + 1 }) as Event);
    const header: StreamRecord = { type: 'header', magic: 'rill', version: 1, source: 'kill-churn', node: 'n', kind: 'tree', root: { path: '/src' }, created: 0n };
    const file = join(dir, 'churn.rill');
    writeFileSync(file, await frames([header, ...events, { type: 'end', count: 0, checksum: 0 }]));
    const want = join(dir, 'want');
    assert.equal(rill(['replay', want, file]).code, 0);
    const interrupted = await trials(30, file, events.length, want, dir, () => {});
    assert.ok(interrupted >= 15, `kills landed mid-stream (${interrupted} of about 40)`);
  } finally {
    cleanup();
  }
});

test('kill -9 of a full replay into a replica with extras, then a rerun: exactly the source', async (t) => {
  if (!requireCapability(t, isRoot, 'root (ownership compared by verify)')) return;
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    const entries: EntrySpec[] = [];
    const meta: MetaSpec[] = [{ path: '', mtime: 1_600_000_000_000_000_000n }];
    for (let d = 0; d < 8; d++) {
      entries.push({ type: 'dir', path: `d${d}`, mode: 0o750 }, { type: 'dir', path: `d${d}/sub` });
      for (let f = 0; f < 12; f++) entries.push({ type: 'file', path: `d${d}/${f % 2 ? 'sub/' : ''}f${f}`, content: `${d}/${f}`.repeat(f * 50) });
      entries.push({ type: 'symlink', path: `d${d}/sl`, target: 'f0' }, { type: 'link', path: `d${d}/hl`, target: `d${d}/f2` });
      meta.push({ path: `d${d}/sub`, mtime: 1_600_000_000_000_000_000n + BigInt(d) }, { path: `d${d}`, mtime: 1_600_000_000_000_000_000n });
    }
    makeTree(src, entries, meta);
    const raw = sh(`rill capture --scan ${q(src)}`);
    assert.equal(raw.code, 0, raw.stderr);
    const records = await decode(raw.stdout);
    const file = join(dir, 'full.rill');
    writeFileSync(file, await frames(records));
    const last = (records.at(-1) as { lastSeq: number }).lastSeq;
    const outside = join(dir, 'outside');
    makeTree(outside, [{ type: 'file', path: 'keep', content: 'keep' }]);
    const extras = (root: string) => {
      const junk: EntrySpec[] = [{ type: 'symlink', path: 'out', target: outside }, { type: 'file', path: 'zz', content: 'z' }];
      for (let d = 0; d < 8; d += 2) {
        junk.push({ type: 'dir', path: `d${d}` }, { type: 'dir', path: `d${d}/old` }, { type: 'file', path: `d${d}/old/x`, content: 'x' });
        junk.push({ type: 'file', path: `d${d}/f1`, content: 'stale' }, { type: 'fifo', path: `d${d}/pipe` }, { type: 'dir', path: `d${d}/sl` });
      }
      makeTree(root, junk);
      mkdirSync(join(root, '.rill/stash'), { recursive: true });
    };
    const interrupted = await trials(14, file, last, src, dir, extras);
    assert.ok(interrupted >= 7, `kills landed mid-stream (${interrupted} of about 18)`);
    assert.equal(readFileSync(join(outside, 'keep'), 'utf8'), 'keep');
  } finally {
    cleanup();
  }
});
