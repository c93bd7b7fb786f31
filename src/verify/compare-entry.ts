// The quick checks of one name, cheapest first, from lstat and a few small system calls: existence, type,
// size, mode, owner, times, device numbers, symlink target, xattrs, hard-link grouping. Content and
// sparseness (which need the files opened) are small-file.ts's and content.ts's. Extended attributes cover every namespace
// llistxattr returns (user, trusted, security, system.posix_acl_*), names and values compared as bytes.
import type { Difference, ResolvedOptions } from './difference.js';
import { readTarget, xattrNames, xattrValue, type Entry, type TreeRoot } from './entry.js';
import type { LinkGroups } from './links.js';
import { mergeNames, type WalkItem } from './walk.js';

/** Everything the quick checks need besides the item: the trees, options, and each tree's link groups. */
export interface CheckContext {
  A: TreeRoot;
  B: TreeRoot;
  options: ResolvedOptions;
  linksA: LinkGroups;
  linksB: LinkGroups;
}

/** The quick checks' verdict on one name, and whether its contents still need comparing. */
export interface QuickResult {
  differences: Difference[];
  /** Both are regular files of the same non-zero size, not already compared under an earlier link name. */
  compareContent: boolean;
}

/**
 * The metadata differences of one walked name, in report order; why: they decide before any content is
 * read. A later name of an inode linked alike on both sides was compared at its first name: skipped, so a
 * difference in a hard-linked file is reported once, not once per name.
 */
export function quickChecks(item: WalkItem, ctx: CheckContext): QuickResult {
  const { rel: path, a, b } = item;
  const only = (d: Difference): QuickResult => ({ differences: [d], compareContent: false });
  if (b === undefined) return only({ kind: 'missing', path, type: a!.type });
  if (a === undefined) return only({ kind: 'extra', path, type: b.type });
  if (a.type !== b.type) return only({ kind: 'type', path, a: a.type, b: b.type });
  let links: Difference | undefined;
  if (a.type !== 'dir') {
    const firstA = ctx.linksA.firstName(a, path);
    const firstB = ctx.linksB.firstName(b, path);
    if (firstA !== null && firstA === firstB) return { differences: [], compareContent: false };
    if (firstA !== firstB) links = { kind: 'links', path, a: firstA, b: firstB };
  }
  const differences = [...metadata(path, a, b, ctx.options), ...special(ctx, path, a, b)];
  if (links) differences.push(links);
  return { differences, compareContent: a.type === 'file' && a.size === b.size && a.size > 0 };
}

/** Numbers straight from lstat. */
function metadata(path: string, a: Entry, b: Entry, o: ResolvedOptions): Difference[] {
  const out: Difference[] = [];
  if (a.type === 'file' && a.size !== b.size) out.push({ kind: 'size', path, a: a.size, b: b.size });
  // Symlink permissions are always 0777 on Linux and cannot be changed: not compared.
  if (a.type !== 'symlink' && a.perm !== b.perm) out.push({ kind: 'mode', path, a: a.perm, b: b.perm });
  if (o.owner && (a.uid !== b.uid || a.gid !== b.gid)) {
    out.push({ kind: 'owner', path, a: { uid: a.uid, gid: a.gid }, b: { uid: b.uid, gid: b.gid } });
  }
  if (o.times && a.mtimeNs !== b.mtimeNs) out.push({ kind: 'mtime', path, a: a.mtimeNs, b: b.mtimeNs });
  if (o.atime && a.atimeNs !== b.atimeNs) out.push({ kind: 'atime', path, a: a.atimeNs, b: b.atimeNs });
  if ((a.type === 'chardev' || a.type === 'blockdev') && a.rdev !== b.rdev) out.push({ kind: 'rdev', path, a: a.rdev, b: b.rdev });
  return out;
}

/** Checks that cost a system call or a map lookup. */
function special(ctx: CheckContext, path: string, a: Entry, b: Entry): Difference[] {
  const out: Difference[] = [];
  if (a.type === 'symlink') {
    const ta = readTarget(ctx.A, path);
    const tb = readTarget(ctx.B, path);
    if (!ta.equals(tb)) out.push({ kind: 'target', path, a: ta, b: tb });
  }
  if (ctx.options.xattrs) out.push(...compareXattrs(ctx.A, ctx.B, path));
  return out;
}

/** The xattr differences of one name present in both trees; why: ACLs and labels are part of a replica. */
export function compareXattrs(A: TreeRoot, B: TreeRoot, rel: string): Difference[] {
  const namesA = xattrNames(A, rel);
  const namesB = xattrNames(B, rel);
  if (namesA.length === 0 && namesB.length === 0) return [];
  const out: Difference[] = [];
  for (const { name, inA, inB } of mergeNames(namesA, namesB)) {
    const a = inA ? xattrValue(A, rel, name) : null;
    const b = inB ? xattrValue(B, rel, name) : null;
    if (a === null && b === null) continue;
    if (a === null || b === null || !a.equals(b)) out.push({ kind: 'xattr', path: rel, name, a, b });
  }
  return out;
}
