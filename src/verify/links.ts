// Hard-link grouping: two names are links of one inode in A exactly when they are in B. Each tree maps an
// inode to the first name seen for it (in walk order); only inodes with nlink > 1 are remembered, and an
// inode is forgotten once all its links were seen, so memory follows the open link groups, not the tree.
// Called for every name present in both trees (same type, not a directory) in one order, the partitions
// into inodes agree exactly when every such name has the same first name on both sides; compare-entry.ts
// reports a 'links' difference at each name where they disagree.
import type { Entry } from './entry.js';

/** The first names of multiply-linked inodes of one tree; why: grouping is compared name by name. */
export class LinkGroups {
  private readonly first = new Map<string, { path: string; left: number }>();

  /** The first name seen earlier for this entry's inode, or null when `rel` is its first (or only) name. */
  firstName(entry: Entry, rel: string): string | null {
    if (entry.nlink <= 1) return null;
    const group = this.first.get(entry.inode);
    if (group === undefined) {
      this.first.set(entry.inode, { path: rel, left: entry.nlink - 1 });
      return null;
    }
    if (--group.left <= 0) this.first.delete(entry.inode);
    return group.path;
  }
}
