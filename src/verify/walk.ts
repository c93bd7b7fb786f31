// Walks two trees side by side in one deterministic order (names sorted as bytes, parents before children),
// holding one sorted listing per directory level: memory grows with depth and directory size, not tree size.
import { bytesToPath, joinPath } from '../stream/path.js';
import { listDir, noEntry, statEntry, treeError, type Entry, type TreeRoot } from './entry.js';

/** A name seen in A, in B, or in both; `rel` is its Path relative to the roots ('' for the roots). */
export interface WalkItem {
  rel: string;
  a: Entry | undefined;
  b: Entry | undefined;
}

/** The top-level name both trees may hold for rill's own state; never compared. */
const RILL_STATE = Buffer.from('.rill');

/** Merges two sorted name lists; why: one pass pairs names present in A, B or both. */
export function* mergeNames(a: Buffer[], b: Buffer[]): Generator<{ name: Buffer; inA: boolean; inB: boolean }> {
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const c = i >= a.length ? 1 : j >= b.length ? -1 : Buffer.compare(a[i]!, b[j]!);
    if (c === 0) yield { name: a[i++]!, inA: true, inB: (j++, true) };
    else if (c < 0) yield { name: a[i++]!, inA: true, inB: false };
    else yield { name: b[j++]!, inA: false, inB: true };
  }
}

/**
 * Yields the roots, then every name under them in pre-order; descends only where both sides are
 * directories. Why: the caller compares item by item and sees differences in a stable order.
 * A missing root is an error (not a difference): the user named the wrong tree.
 */
export function* walkTrees(A: TreeRoot, B: TreeRoot): Generator<WalkItem> {
  const a = statEntry(A, '');
  if (a === undefined) throw treeError('read', A, '', noEntry());
  const b = statEntry(B, '');
  if (b === undefined) throw treeError('read', B, '', noEntry());
  yield { rel: '', a, b };
  if (a.type === 'dir' && b.type === 'dir') yield* walkDir(A, B, '');
}

function* walkDir(A: TreeRoot, B: TreeRoot, dir: string): Generator<WalkItem> {
  const names = mergeNames(listDir(A, dir), listDir(B, dir));
  for (const { name, inA, inB } of names) {
    if (dir === '' && name.equals(RILL_STATE)) continue;
    const rel = joinPath(dir, bytesToPath(name));
    const a = inA ? mustStat(A, rel) : undefined;
    const b = inB ? mustStat(B, rel) : undefined;
    yield { rel, a, b };
    if (a?.type === 'dir' && b?.type === 'dir') yield* walkDir(A, B, rel);
  }
}

/** A listed name that vanished before lstat means the tree is changing under us: an error, not a difference. */
function mustStat(tree: TreeRoot, rel: string): Entry {
  const e = statEntry(tree, rel);
  if (e === undefined) throw treeError('stat', tree, rel, noEntry(), 'it vanished during the walk: verify a quiescent tree');
  return e;
}
