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
import { decodeEntry, placeKey, type Sides } from './tree-fate.js';
import { liveScanNote, problemNote, type ScanProblem } from './problems.js';
import type { ScanRoot } from './root.js';
import type { CaptureSource } from './source.js';
import { StateWriter, type StateReader } from './state-file.js';
import { stateHeader, type StatePlan } from './state-plan.js';
import { treeChanges } from './tree-changes.js';
import { retireOld } from './tree-retire.js';
import { walkToDraft, type Draft } from './tree-walk.js';
import { RootPaths } from './walk.js';

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
  /** Test hook: called between the walk (pass 1) and the events (pass 2). */
  afterWalk?: () => void;
}

/** The indexes of a manifest by inode and by place, read once in order. */
function indexesOf(reader: StateReader, byInode?: InodeIndex): { byInode: InodeIndex; byName: InodeIndex } {
  const inodes = byInode ?? new InodeIndex();
  const names = new InodeIndex();
  for (const [ref, rec] of reader.records()) {
    const e = decodeEntry(rec, reader);
    if (byInode === undefined) inodes.add(e.ino, ref);
    names.add(placeKey(e.parent, e.name), ref);
  }
  inodes.seal();
  names.seal();
  return { byInode: inodes, byName: names };
}

export function treeCapture(root: ScanRoot, options: TreeCaptureOptions): CaptureSource {
  const { plan, stateFile } = options;
  if (root.kind !== 'tree') throw new RillError('usage', `${JSON.stringify(root.path)} is not a directory`, { path: root.path });
  const header = stateHeader(root, plan, options.node);
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
    options.afterWalk?.();
    let sides: Sides | undefined;
    if (plan.old !== undefined) {
      const old = indexesOf(plan.old);
      const now = indexesOf(draft.reader, draft.index);
      sides = { old: plan.old, oldIndex: old.byInode, oldByName: old.byName, draft: draft.reader, newIndex: now.byInode, newByName: now.byName };
    }
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
