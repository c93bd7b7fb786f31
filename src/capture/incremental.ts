// Incremental tree capture (capture --scan --state FILE): pass 1 walks the tree into a draft
// manifest; pass 2 retires what left its old place (to the stash, or removed), then walks the new
// tree emitting only what changed, writing the new manifest as it goes. The manifest replaces the
// old one only once the whole stream reached its output. Without a previous manifest (first run,
// --full) pass 2 emits a full stream in scan order.
import { RillError } from '../errors.js';
import type { EventInput } from '../stream/events.js';
import type { BufferPool } from './buffer-pool.js';
import type { PathFilter } from './filter.js';
import { InodeIndex } from './inode-index.js';
import { decodeEntry } from './tree-fate.js';
import { liveScanNote, problemNote, type ScanProblem } from './problems.js';
import type { ScanRoot } from './root.js';
import type { CaptureSource } from './source.js';
import { STATE_MAGIC, STATE_VERSION, StateWriter, type StateHeader, type StateReader } from './state-file.js';
import type { StatePlan } from './state-plan.js';
import { treeChanges } from './tree-changes.js';
import { retireOld } from './tree-retire.js';
import { walkToDraft, type Draft } from './tree-walk.js';
import { RootPaths } from './walk.js';
import { hostname } from 'node:os';

export interface TreeCaptureOptions {
  plan: StatePlan;
  stateFile: string;
  chunkSize: number;
  blockSize: number;
  pool?: BufferPool;
  node?: string;
  filter?: PathFilter;
  oneFileSystem?: boolean;
  /** Hash every file, not only those whose size, mtime or ctime moved. */
  checksum?: boolean;
  onProblem?: (p: ScanProblem) => void;
}

/** The inode index of a manifest, read once in order. */
function indexOf(reader: StateReader): InodeIndex {
  const index = new InodeIndex();
  for (const [ref, rec] of reader.records()) {
    const ino = Array.isArray(rec) ? (rec[3] as unknown) : undefined; // the inode, without decoding the rest
    if (typeof ino !== 'number') decodeEntry(rec, reader); // reports the corruption
    index.add(ino as number, ref);
  }
  index.seal();
  return index;
}

export function treeCapture(root: ScanRoot, options: TreeCaptureOptions): CaptureSource {
  const { plan, stateFile } = options;
  if (root.kind !== 'tree') throw new RillError('usage', `${JSON.stringify(root.path)} is not a directory`, { path: root.path });
  const header: StateHeader = {
    magic: STATE_MAGIC,
    version: STATE_VERSION,
    kind: 'tree',
    source: plan.source,
    node: options.node ?? hostname(),
    root: { path: root.abs, dev: Number(root.st.dev), ino: Number(root.st.ino) },
    blockSize: plan.blockSize,
    created: Date.now(),
  };
  const onProblem = options.onProblem ?? (() => {});
  const problem = (p: ScanProblem): EventInput => {
    onProblem(p);
    return problemNote(p);
  };
  let draft: Draft | undefined;
  let writer: StateWriter | undefined;
  const cleanup = (): void => {
    draft?.remove();
    plan.old?.close();
  };

  function* events(): Generator<EventInput> {
    yield liveScanNote(root.abs, plan.full ? 'full scan' : 'incremental scan');
    const problems: ScanProblem[] = [];
    draft = walkToDraft(root, `${stateFile}.draft`, header, { filter: options.filter, oneFileSystem: options.oneFileSystem, problems });
    for (const p of problems) yield problem(p);
    const sides = plan.old === undefined ? undefined : { old: plan.old, oldIndex: indexOf(plan.old), draft: draft.reader, newIndex: draft.index };
    writer = new StateWriter(stateFile, header);
    if (sides !== undefined) yield* retireOld(sides);
    yield* treeChanges({
      sides,
      draft: draft.reader,
      writer,
      paths: new RootPaths(root.abs),
      plan: { blockSize: plan.blockSize, chunkSize: options.chunkSize, pool: options.pool },
      checksum: options.checksum ?? false,
      problem,
    });
    yield { type: 'commit' };
  }

  return {
    events: events(),
    commit(lastSeq) {
      try {
        if (writer === undefined) throw new Error('the stream ended before the state was written');
        writer.commit(lastSeq);
      } finally {
        cleanup();
      }
    },
    abort() {
      try {
        writer?.discard();
      } finally {
        cleanup();
      }
    },
  };
}
