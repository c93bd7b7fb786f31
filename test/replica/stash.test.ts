// The stash: change sets move entries through ROOT/.rill/stash/NAME to reorder names without
// conflicts. Exactly those paths, and only in rename (either side), unlink and rmdir, get past
// confinement; everything else under .rill stays refused. A stash left full is warned about.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTree, tempDir } from '../helpers/tree.js';
import { encode, fixedHeader } from '../helpers/codec.js';
import { rill } from '../helpers/cli.js';
import type { Event, EventInput } from '../../src/stream/events.js';
import { rejectsWith, replay } from './helpers.js';

const S = '.rill/stash';

test('rename into and out of the stash swaps files and directories; a stashed directory keeps its contents', async () => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(dir, [{ type: 'file', path: 'a', content: 'A' }, { type: 'file', path: 'b', content: 'B' }, { type: 'dir', path: 'p' }, { type: 'file', path: 'p/in', content: 'in p' }, { type: 'dir', path: 'q' }]);
    const lines: string[] = [];
    const events: EventInput[] = [
      { type: 'rename', path: 'a', to: `${S}/1` },
      { type: 'rename', path: 'b', to: 'a' },
      { type: 'rename', path: `${S}/1`, to: 'b' },
      { type: 'rename', path: 'p', to: `${S}/dir` },
      { type: 'rename', path: 'q', to: 'p' },
      { type: 'rename', path: `${S}/dir`, to: 'q' },
      { type: 'create', path: 'gone', mode: 0o644 },
      { type: 'rename', path: 'gone', to: `${S}/f` },
      { type: 'unlink', path: `${S}/f` },
      { type: 'mkdir', path: 'd', mode: 0o755 },
      { type: 'rename', path: 'd', to: `${S}/d` },
      { type: 'rmdir', path: `${S}/d` },
    ];
    await replay(dir, events, { dryRun: true, print: (l) => { lines.push(l); } });
    assert.equal(lines[0], `rename "a" to "${S}/1"`);
    const { log } = await replay(dir, events);
    assert.equal(readFileSync(join(dir, 'a'), 'utf8'), 'B');
    assert.equal(readFileSync(join(dir, 'b'), 'utf8'), 'A');
    assert.equal(readFileSync(join(dir, 'q/in'), 'utf8'), 'in p');
    assert.deepEqual(readdirSync(join(dir, 'p')), []);
    assert.deepEqual(readdirSync(join(dir, S)), []);
    assert.deepEqual(log, [], 'an emptied stash is not warned about');
  } finally {
    cleanup();
  }
});

test('a stream that leaves entries in the stash is warned about, naming the count', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { log } = await replay(dir, [
      { type: 'create', path: 'x', mode: 0o644 },
      { type: 'mkdir', path: 'y', mode: 0o755 },
      { type: 'rename', path: 'x', to: `${S}/x` },
      { type: 'rename', path: 'y', to: `${S}/y` },
    ]);
    assert.equal(log.length, 1);
    assert.match(log[0]!, /^warning: 2 entries are left in .*\/\.rill\/stash: a change set moved them there and did not restore them/);
  } finally {
    cleanup();
  }
});

test('everything else under .rill is refused, in a replay and in a dry run (exit 4)', async (t) => {
  const f: EventInput = { type: 'create', path: 'f', mode: 0o644 };
  const cases: [string, EventInput[]][] = [
    ['create in the stash', [{ type: 'create', path: `${S}/x`, mode: 0o644 }]],
    ['mkdir in the stash', [{ type: 'mkdir', path: `${S}/x`, mode: 0o755 }]],
    ['symlink in the stash', [{ type: 'symlink', path: `${S}/x`, target: '/' }]],
    ['mknod in the stash', [{ type: 'mknod', path: `${S}/x`, mode: 0o010644, rdev: 0 }]],
    ['link in the stash', [f, { type: 'link', path: `${S}/x`, target: 'f' }]],
    ['link to a stash entry', [f, { type: 'rename', path: 'f', to: `${S}/x` }, { type: 'link', path: 'g', target: `${S}/x` }]],
    ['write to a stash entry', [f, { type: 'rename', path: 'f', to: `${S}/x` }, { type: 'write', path: `${S}/x`, offset: 0, data: Buffer.from('x') }]],
    ['truncate a stash entry', [f, { type: 'rename', path: 'f', to: `${S}/x` }, { type: 'truncate', path: `${S}/x`, size: 0 }]],
    ['chmod a stash entry', [f, { type: 'rename', path: 'f', to: `${S}/x` }, { type: 'chmod', path: `${S}/x`, mode: 0o777 }]],
    ['utimes a stash entry', [f, { type: 'rename', path: 'f', to: `${S}/x` }, { type: 'utimes', path: `${S}/x`, atime: 0n, mtime: 0n }]],
    ['setxattr on a stash entry', [f, { type: 'rename', path: 'f', to: `${S}/x` }, { type: 'setxattr', path: `${S}/x`, name: 'user.a', value: Buffer.from('1') }]],
    ['rename below a stash entry', [{ type: 'mkdir', path: 'd', mode: 0o755 }, { type: 'rename', path: 'd', to: `${S}/d` }, f, { type: 'rename', path: 'f', to: `${S}/d/f` }]],
    ['rename out of below a stash entry', [{ type: 'rename', path: `${S}/d/f`, to: 'f' }]],
    ['unlink below a stash entry', [{ type: 'unlink', path: `${S}/d/f` }]],
    ['rename of the stash itself', [{ type: 'rename', path: S, to: 'mine' }]],
    ['rename onto the stash', [{ type: 'mkdir', path: 'd', mode: 0o755 }, { type: 'rename', path: 'd', to: S }]],
    ['rmdir of the stash', [{ type: 'rmdir', path: S }]],
    ['unlink the state file', [{ type: 'unlink', path: '.rill/state.json' }]],
    ['rename the state file', [{ type: 'rename', path: '.rill/state.json', to: 'stolen' }]],
    ['rename into .rill/tmp', [f, { type: 'rename', path: 'f', to: '.rill/tmp/x' }]],
    ['rmdir .rill/tmp', [{ type: 'rmdir', path: '.rill/tmp' }]],
  ];
  const { dir, cleanup } = tempDir();
  try {
    for (const [i, [name, events]] of cases.entries()) {
      await t.test(name, async () => {
        await rejectsWith(replay(join(dir, `r${i}`), events), 'unsafe', /holds rill's own state/);
        await rejectsWith(replay(join(dir, `n${i}`), events, { dryRun: true, print: () => {} }), 'unsafe', /holds rill's own state/);
        assert.deepEqual(readdirSync(join(dir, `r${i}`, '.rill')).sort(), ['deferred.log', 'inflight', 'lock', 'stash', 'state.json', 'tmp'].filter((n) => n !== 'state.json'));
      });
    }
    const numbered = (events: EventInput[]) => events.map((e, i) => ({ ...e, seq: i + 1 }) as Event);
    const r = rill(['replay', join(dir, 'cli')], await encode(numbered(cases[0]![1]), {}, { ...fixedHeader, full: undefined }));
    assert.equal(r.code, 4, r.stderr);
    assert.match(r.stderr, /refused path "\.rill\/stash\/x": '\.rill' holds rill's own state and is never replicated \(an entry of \.rill\/stash may only be renamed, unlinked or removed\)/);
  } finally {
    cleanup();
  }
});
