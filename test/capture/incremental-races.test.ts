// An incremental scan of a live tree: entries that vanish or change between the walk and the read
// get notes, the stream stays applicable, and the next run converges.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, unlinkSync, rmSync } from 'node:fs';
import { tempDir } from '../helpers/tree.js';
import { sh, q } from '../helpers/cli.js';
import { openScanRoot } from '../../src/capture/root.js';
import { planFromState } from '../../src/capture/state-plan.js';
import { treeCapture } from '../../src/capture/incremental.js';
import { loadHasher } from '../../src/capture/blocks.js';
import { StreamEncoder, newHeader } from '../../src/stream/encode.js';
import { Sequencer } from '../../src/stream/sequence.js';
import type { Event } from '../../src/stream/events.js';
import type { ScanProblem } from '../../src/capture/problems.js';

/** One incremental capture through the library, with a hook between walk and read; the stream's bytes. */
async function captureWith(src: string, state: string, afterWalk: () => void, problems: ScanProblem[]): Promise<Buffer> {
  await loadHasher();
  const root = openScanRoot(src);
  const identity = { path: root.abs, dev: Number(root.st.dev), ino: Number(root.st.ino) };
  const plan = planFromState({ file: state, kind: 'tree', root: identity, full: false }, 65536);
  const source = treeCapture(root, { plan, stateFile: state, chunkSize: 262144, blockSize: plan.blockSize, afterWalk, onProblem: (p) => problems.push(p) });
  const enc = new StreamEncoder(newHeader({ kind: 'tree', root: identity, source: plan.source, full: plan.full, base: plan.base }));
  const chunks: Buffer[] = [];
  enc.on('data', (c: Buffer) => chunks.push(c));
  const seq = new Sequencer(plan.firstSeq);
  for (const e of source.events) enc.write(seq.assign(e) as Event);
  enc.end();
  await new Promise((r) => enc.on('end', r));
  source.commit(seq.last);
  return Buffer.concat(chunks);
}

test('entries that vanish between walk and read get notes; the stream applies; the next run converges', async () => {
  const { dir, cleanup } = tempDir('rill-races-');
  try {
    const src = `${dir}/src`;
    const rep = `${dir}/rep`;
    const state = `${dir}/state`;
    mkdirSync(`${src}/keep`, { recursive: true });
    writeFileSync(`${src}/keep/old`, 'old file');
    assert.equal(sh(`rill capture --scan --state ${q(state)} ${q(src)} | rill replay ${q(rep)}`).code, 0);
    // new and changed entries that vanish after the walk saw them
    writeFileSync(`${src}/keep/old`, 'changed, then removed');
    writeFileSync(`${src}/new-file`, 'new, then removed');
    mkdirSync(`${src}/new-dir/sub`, { recursive: true });
    writeFileSync(`${src}/new-dir/sub/f`, 'inside');
    const problems: ScanProblem[] = [];
    const stream = await captureWith(src, state, () => {
      unlinkSync(`${src}/keep/old`);
      unlinkSync(`${src}/new-file`);
      rmSync(`${src}/new-dir`, { recursive: true });
    }, problems);
    assert.ok(problems.some((p) => p.code === 'vanished' && p.path === 'new-file'), JSON.stringify(problems));
    assert.ok(problems.some((p) => p.code === 'vanished' && p.path === 'keep/old'), JSON.stringify(problems));
    writeFileSync(`${dir}/s.rill`, stream);
    const applied = sh(`rill replay ${q(rep)} ${q(`${dir}/s.rill`)}`);
    assert.equal(applied.code, 0, applied.stderr);
    // the next ordinary run makes the replica equal again
    const next = sh(`rill capture --scan --state ${q(state)} ${q(src)} | rill replay ${q(rep)} && rill verify ${q(src)} ${q(rep)}`);
    assert.equal(next.code, 0, next.stderr + next.stdout.toString());
  } finally {
    cleanup();
  }
});
