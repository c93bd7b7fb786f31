// The control socket: status, bookmarks at the exact cut, pause holding writers (bound to the
// connection, ended by its close or its deadline), another client's pause refused as busy, and a
// reconfigure that brings newly included entries into the stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../helpers/tree.js';
import { RILL } from '../helpers/cli.js';
import { dumpEvents, must, requireFuse, startCapture, verify } from './harness.js';
import { RawControl } from './control-client.js';

function writer(file: string): { child: ChildProcess; done: Promise<number | null> } {
  const child = spawn('sh', ['-c', `echo held > '${file}'`], { stdio: 'ignore' });
  return { child, done: new Promise((r) => child.on('exit', (c) => r(c))) };
}

const running = (c: ChildProcess): boolean => c.exitCode === null && c.signalCode === null;

test('control: status, bookmark at the cut, pause holds writers until resume, close or deadline', async (t) => {
  if (!requireFuse(t)) return;
  const { dir, cleanup } = tempDir('rill-mount-ctl-');
  const root = join(dir, 'root');
  const at = join(dir, 'at');
  const sock = join(dir, 'ctl.sock');
  const out = join(dir, 'out.rill');
  mkdirSync(root);
  mkdirSync(at);
  const run = await startCapture(root, out, ['--at', at, '--control', sock]);
  const conns: RawControl[] = [];
  try {
    assert.equal(statSync(sock).mode & 0o777, 0o600);
    const a = await RawControl.open(sock);
    conns.push(a);
    const st = await a.ask({ op: 'status' });
    assert.equal(st.ok, true);
    assert.equal(st.protocol, 1);
    assert.equal(st.root, root);
    assert.equal(st.paused, false);
    assert.equal(st.journal, null);

    writeFileSync(join(at, 'before'), '1');
    const b1 = await a.ask({ op: 'bookmark', name: 'b1' });
    assert.equal(b1.ok, true, JSON.stringify(b1));
    writeFileSync(join(at, 'after'), '2');

    const p = await a.ask({ op: 'pause', timeoutMs: 60000 });
    assert.equal(p.ok, true, JSON.stringify(p));
    assert.equal(typeof p.deadline, 'string');
    const w1 = writer(join(at, 'held1'));
    await sleep(500);
    assert.ok(running(w1.child), 'a writer waits while paused');
    assert.equal(existsSync(join(root, 'held1')), false, 'nothing reached the backing tree while paused');
    const b = await RawControl.open(sock);
    conns.push(b);
    const busy = await b.ask({ op: 'pause', timeoutMs: 1000 });
    assert.deepEqual([busy.ok, busy.code], [false, 'busy']);
    assert.equal((await b.ask({ op: 'status' })).paused, true);
    const b2 = await a.ask({ op: 'bookmark', name: 'b2' });
    assert.equal(b2.ok, true, JSON.stringify(b2));
    a.close(); // the pause belongs to this connection: closing it resumes
    assert.equal(await w1.done, 0);
    assert.equal(existsSync(join(root, 'held1')), true);

    const p2 = await b.ask({ op: 'pause', timeoutMs: 400 });
    assert.equal(p2.ok, true, JSON.stringify(p2));
    const w2 = writer(join(at, 'held2'));
    await sleep(150);
    assert.ok(running(w2.child), 'held by the second pause');
    assert.equal(await w2.done, 0, 'the deadline resumed it');

    const p3 = await b.ask({ op: 'pause', timeoutMs: 60000 });
    assert.equal(p3.ok, true);
    const w3 = writer(join(at, 'held3'));
    await sleep(200);
    assert.ok(running(w3.child));
    assert.equal(readFileSync(join(at, 'before'), 'utf8'), '1', 'reads go on while mutations are held');
    const res = await b.ask({ op: 'resume' });
    assert.equal(res.ok, true, JSON.stringify(res));
    assert.equal(await w3.done, 0);
    assert.deepEqual((await b.ask({ op: 'frobnicate' })).code, 'usage');
    assert.deepEqual((await b.ask('not json')).code, 'usage');
    assert.deepEqual((await b.ask({ op: 'pause', timeoutMs: 0 })).code, 'usage');

    const r = await run.stop();
    assert.equal(r.capture, 143, r.stderr);
    const events = dumpEvents(out);
    const at_ = (pred: (e: Record<string, unknown>) => boolean): number => events.findIndex(pred);
    const iBefore = at_((e) => e.type === 'create' && e.path === 'before');
    const iB1 = at_((e) => e.type === 'bookmark' && e.name === 'b1');
    const iAfter = at_((e) => e.type === 'create' && e.path === 'after');
    const iB2 = at_((e) => e.type === 'bookmark' && e.name === 'b2');
    const iHeld = at_((e) => e.type === 'create' && e.path === 'held1');
    assert.ok(iBefore > 0 && iBefore < iB1 && iB1 < iAfter && iAfter < iB2 && iB2 < iHeld, `order: ${[iBefore, iB1, iAfter, iB2, iHeld]}`);
    assert.equal(events[iB1]!.seq, b1.seq);
    assert.equal(events[iB1]!.consistent, true);
    const rep = join(dir, 'rep');
    must(RILL, ['replay', rep, out]);
    const v = verify(root, rep);
    assert.equal(v.code, 0, v.out);
  } finally {
    for (const c of conns) c.close();
    run.cleanup();
    cleanup();
  }
});

test('control: reconfigure refuses an invalid pattern, and a path it includes again is scanned into the stream', async (t) => {
  if (!requireFuse(t)) return;
  const { dir, cleanup } = tempDir('rill-mount-reconf-');
  const root = join(dir, 'root');
  const sock = join(dir, 'ctl.sock');
  const out = join(dir, 'out.rill');
  mkdirSync(root);
  const run = await startCapture(root, out, ['--control', sock, '--exclude', 'skip/']);
  const conns: RawControl[] = [];
  try {
    mkdirSync(join(root, 'skip'));
    writeFileSync(join(root, 'skip/x'), 'excluded at first');
    writeFileSync(join(root, 'keep'), 'always in');
    const c = await RawControl.open(sock);
    conns.push(c);
    const bad = await c.ask({ op: 'reconfigure', exclude: [''] });
    assert.deepEqual([bad.ok, bad.code], [false, 'usage']);
    assert.match(String(bad.error), /pattern/);
    const st = await c.ask({ op: 'status' });
    assert.deepEqual(st.exclude, ['skip/'], 'the refused reconfigure changed nothing');
    const ok = await c.ask({ op: 'reconfigure', exclude: ['*.tmp'] });
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.deepEqual(ok.exclude, ['*.tmp']);
    writeFileSync(join(root, 'skip/y'), 'live after the reconfigure');
    writeFileSync(join(root, 'scratch.tmp'), 'excluded now');
    const r = await run.stop();
    assert.equal(r.capture, 143, r.stderr);
    const events = dumpEvents(out);
    assert.ok(events.some((e) => e.type === 'create' && e.path === 'skip/x'), 'skip/x was scanned in');
    assert.ok(events.some((e) => e.type === 'create' && e.path === 'skip/y'), 'skip/y came live');
    assert.ok(!events.some((e) => e.path === 'scratch.tmp'), '*.tmp is excluded');
    const rep = join(dir, 'rep');
    must(RILL, ['replay', rep, out]);
    // the excluded file is not in the replica: take it away here too, keeping the directory's mtime
    const m = statSync(root, { bigint: true }).mtimeNs;
    must('rm', [join(root, 'scratch.tmp')]);
    must('touch', ['-m', '-d', `@${m / 1_000_000_000n}.${String(m % 1_000_000_000n).padStart(9, '0')}`, root]);
    const v = verify(root, rep);
    assert.equal(v.code, 0, v.out);
  } finally {
    for (const c of conns) c.close();
    run.cleanup();
    cleanup();
  }
});
