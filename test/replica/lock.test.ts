// One replay at a time per replica: a second one (e.g. the sink of a new ship session while the
// previous session's replay still runs) is refused with exit 8, naming the holder, and changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { encode, fixedHeader } from '../helpers/codec.js';
import { rill, RILL } from '../helpers/cli.js';
import type { Event } from '../../src/stream/events.js';

test('a second replay into a replica in use exits 8 naming the first; after it ends, replay works', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const root = join(dir, 'r');
    const events: Event[] = [
      { type: 'mkdir', path: 'd', mode: 0o755, seq: 1 },
      { type: 'create', path: 'd/f', mode: 0o644, seq: 2 },
      { type: 'write', path: 'd/f', offset: 0, data: Buffer.from('x'), seq: 3 },
      { type: 'commit', seq: 4 },
    ];
    const bytes = await encode(events, { frameBytes: 16 }, fixedHeader);
    const first = spawn(RILL, ['replay', root], { stdio: ['pipe', 'ignore', 'pipe'] });
    const exited = new Promise<number | null>((r) => first.once('exit', r));
    first.stdin.write(bytes.subarray(0, bytes.length - 40)); // the stream stays open
    for (let i = 0; i < 400 && !existsSync(join(root, '.rill', 'lock')); i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 300));
    const second = rill(['replay', root], bytes);
    assert.equal(second.code, 8, second.stderr);
    assert.match(second.stderr, new RegExp(`replica ".*" is in use by process ${first.pid}`));
    first.stdin.end(bytes.subarray(bytes.length - 40));
    assert.equal(await exited, 0);
    const third = rill(['replay', root], bytes);
    assert.equal(third.code, 0, third.stderr);
  } finally {
    cleanup();
  }
});
