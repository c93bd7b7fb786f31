// The client side of freeze and bookmark in mount mode, against the protocol server in
// test/helpers/control-server.ts, which can misbehave on demand: the exact order of requests
// (status, pause, bookmark, resume) and hooks around them; a socket that does not answer, answers
// garbage, refuses, or is not there. The same paths against the real `rill capture --mount
// --control` are in mount.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { rill } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';
import { ControlServer, type Behaviour } from '../helpers/control-server.js';
import { start, waitFor } from './run.js';

/** A server for root in a temp dir, its socket, and cleanup. */
async function server(behaviour?: Behaviour, journal?: string): Promise<{ srv: ControlServer; dir: string; sock: string; done: () => Promise<void> }> {
  const { dir, cleanup } = tempDir();
  const sock = join(dir, 'c.sock');
  const srv = new ControlServer(sock, { root: join(dir, 'root'), behaviour, journal });
  await srv.listen();
  return { srv, dir, sock, done: async () => { await srv.stop(); cleanup(); } };
}

const ops = (srv: ControlServer): string[] =>
  srv.seen.map((s) => ('request' in s ? s.request.op : 'paused' in s ? 'PAUSED' : `RESUMED(${s.resumed})`));

test('freeze --control: status, pause, bookmark (consistent) at the cut, CMD with the seq, resume; hooks around', async () => {
  const { srv, dir, sock, done } = await server();
  try {
    const log = join(dir, 'log');
    // rill runs the server in this process: spawnSync would block its event loop, so run it async.
    const f = start(['freeze', '--control', sock, '--bookmark', 'nightly', '--pre', `echo pre >> '${log}'`, '--post', `echo "post $RILL_FREEZE_STATUS" >> '${log}'`,
      join(dir, 'root/sub'), '--', 'sh', '-c', `echo "cmd $RILL_BOOKMARK $RILL_BOOKMARK_SEQ $RILL_MOUNT" >> '${log}'`]);
    const r = await f.done;
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ops(srv), ['status', 'pause', 'PAUSED', 'bookmark', 'resume', 'RESUMED(request)']);
    const bm = srv.seen.find((s) => 'request' in s && s.request.op === 'bookmark') as { request: { name: string; consistent: boolean } };
    assert.deepEqual(bm.request, { op: 'bookmark', name: 'nightly', consistent: true });
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(log, 'utf8'), `pre\ncmd nightly 101 ${join(dir, 'root')}\npost ok\n`);
  } finally {
    await done();
  }
});

test('kill -9 of freeze --control while paused: the connection closes and the capture resumes', async () => {
  const { srv, dir, sock, done } = await server();
  try {
    const f = start(['freeze', '--control', sock, '--timeout', '60', join(dir, 'root'), '--', 'sh', '-c', `touch '${dir}/in-cmd'; sleep 30`]);
    await waitFor(join(dir, 'in-cmd'));
    assert.equal(srv.paused, true);
    f.child.kill('SIGKILL');
    await srv.until((seen) => seen.some((s) => 'resumed' in s));
    assert.deepEqual(srv.seen.at(-1), { resumed: 'closed' });
    await f.done;
  } finally {
    await done();
  }
});

test('bookmark --control prints the seq the capture gave; names are validated', async () => {
  const { srv, sock, done } = await server();
  try {
    const f = start(['bookmark', '--control', sock, 'deploy-42']);
    const r = await f.done;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.toString(), '101\n');
    assert.deepEqual(ops(srv), ['bookmark']);
    const bad = rill(['bookmark', '--control', sock, '../x']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /NAME: "\.\.\/x" is not a valid bookmark name/);
  } finally {
    await done();
  }
});

test('a socket that does not answer: exit 5 naming the request and the socket, within the timeout', async () => {
  const { sock, done } = await server('silent');
  try {
    const t0 = performance.now();
    const a = await start(['bookmark', '--control', sock, '--timeout', '1', 'x']).done;
    assert.equal(a.code, 5, a.stderr);
    assert.match(a.stderr, new RegExp(`control socket "${sock}": the capture did not answer 'bookmark' within 1000 ms`));
    const b = await start(['freeze', '--control', sock, '/']).done;
    assert.equal(b.code, 5, b.stderr);
    assert.match(b.stderr, /the capture did not answer 'status' within 5000 ms/);
    assert.ok(performance.now() - t0 < 15_000);
  } finally {
    await done();
  }
});

test('refusals and garbage: busy pause exit 8, denied exit 5, a reply that is not JSON exit 5', async () => {
  for (const [behaviour, code, message] of [
    [{ refuse: 'pause', code: 'busy', error: 'paused by another connection' }, 8, /the capture refused 'pause': paused by another connection \(busy\)/],
    [{ refuse: 'bookmark', code: 'denied', error: 'peer uid 1000 is not allowed' }, 5, /the capture refused 'bookmark': peer uid 1000 is not allowed/],
    ['garbage', 5, /sent a reply to 'status' that is not protocol JSON/],
  ] as [Behaviour, number, RegExp][]) {
    const { srv, dir, sock, done } = await server(behaviour);
    try {
      const r = await start(['freeze', '--control', sock, '--bookmark', 'b', '--post', `touch '${dir}/post'`, join(dir, 'root'), '--', 'true']).done;
      assert.equal(r.code, code, r.stderr);
      assert.match(r.stderr, message);
      assert.equal(srv.paused, false, 'never left paused');
      const { existsSync } = await import('node:fs');
      assert.ok(existsSync(join(dir, 'post')), 'post hooks ran');
    } finally {
      await done();
    }
  }
});

test('no socket, not a socket, a journal inside the paused root, a path outside the root: clear errors', async () => {
  const { dir, sock, done } = await server(undefined, 'JOURNAL');
  try {
    const missing = rill(['bookmark', '--control', join(dir, 'nope.sock'), 'x']);
    assert.equal(missing.code, 5);
    assert.match(missing.stderr, /control socket ".*nope\.sock" does not exist \(ENOENT\); start 'rill capture --mount ROOT --control/);
    writeFileSync(join(dir, 'file'), '');
    const notSock = rill(['bookmark', '--control', join(dir, 'file'), 'x']);
    assert.equal(notSock.code, 5, notSock.stderr);
    assert.match(notSock.stderr, /nothing listens on control socket/);
    const outside = await start(['freeze', '--control', sock, '/etc', '--', 'true']).done;
    assert.equal(outside.code, 2, outside.stderr);
    assert.match(outside.stderr, /"\/etc" is not under .*\/root, the root of the capture at control socket/);
  } finally {
    await done();
  }
  const { srv: s2, dir: d2, sock: sock2, done: done2 } = await (async () => {
    const { dir, cleanup } = tempDir();
    const sockPath = join(dir, 'c.sock');
    const s = new ControlServer(sockPath, { root: join(dir, 'root'), journal: join(dir, 'root/.journal') });
    await s.listen();
    return { srv: s, dir, sock: sockPath, done: async () => { await s.stop(); cleanup(); } };
  })();
  try {
    const r = await start(['freeze', '--control', sock2, join(d2, 'root'), '--', 'true']).done;
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /refusing to pause .*: its journal .*\/root\/\.journal is inside the paused mount/);
    assert.equal(s2.paused, false);
  } finally {
    await done2();
  }
});
