// freeze --bookmark in scan mode: CMD's stream comes out with a consistent bookmark in place of its
// last commit, and a replica replayed --until it is the frozen tree (rill verify says identical).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { q, rill, sh } from '../helpers/cli.js';
import { tempDir } from '../helpers/tree.js';
import { loopFs, requireLoop } from './loop.js';
import { timedWrite } from './run.js';

test('freeze --bookmark -- rill capture --scan: the last commit becomes a consistent bookmark; replay --until it gives the frozen tree', async (t) => {
  if (!requireLoop(t, 'xfs')) return;
  const fs = loopFs('xfs');
  const { dir: work, cleanup } = tempDir();
  try {
    const data = join(fs.dir, 'data');
    mkdirSync(join(data, 'd'), { recursive: true });
    for (let i = 0; i < 20; i++) writeFileSync(join(data, 'd', `f${i}`), Buffer.alloc(5000 + i, i));
    const before = Date.now();
    const stream = join(work, 'a.rill');
    const r = sh(`rill freeze --bookmark nightly ${q(fs.dir)} -- rill capture --scan ${q(data)} > ${q(stream)}`);
    assert.equal(r.code, 0, r.stderr);
    const events = rill(['dump', '--events', stream]).stdout.toString().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const last = events.at(-1)!;
    assert.equal(last.type, 'bookmark');
    assert.equal(last.name, 'nightly');
    assert.equal(last.consistent, true);
    const wall = Number(BigInt(last.wall as string) / 1_000_000n);
    assert.ok(wall >= before - 5 && wall <= Date.now(), 'wall is the moment of the freeze');
    assert.equal(events.filter((e) => e.type === 'commit').length, 0, 'the scan\'s only commit became the bookmark');
    const replica = join(work, 'r');
    const rep = rill(['replay', '--until', 'nightly', replica, stream]);
    assert.equal(rep.code, 0, rep.stderr);
    const v = rill(['verify', data, replica]);
    assert.equal(v.code, 0, v.stdout.toString());
  } finally {
    cleanup();
    fs.cleanup();
  }
});

test('freeze --bookmark with a CMD whose output is not a rill stream: exit 3 naming it, thawed', async (t) => {
  if (!requireLoop(t, 'ext4')) return;
  const fs = loopFs('ext4');
  try {
    const r = rill(['freeze', '--bookmark', 'x', fs.dir, '--', 'echo', 'hi']);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^rill freeze: the command's output, byte 0: not a rill stream/);
    const empty = rill(['freeze', '--bookmark', 'x', fs.dir, '--', 'true']);
    assert.equal(empty.code, 3, empty.stderr);
    assert.match(empty.stderr, /empty input: not a rill stream/);
    const took = await timedWrite(join(fs.dir, 'writable'));
    assert.ok(took < 1500, `a write took ${took} ms: left frozen`);
  } finally {
    fs.cleanup();
  }
});
