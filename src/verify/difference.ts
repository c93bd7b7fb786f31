// The vocabulary of verify: what kinds of difference exist, what each carries, and the options and summary.
// One discriminated union, so the text and JSON reporters must handle every kind.

/** A file type as verify names it in messages. */
export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'chardev' | 'blockdev' | 'socket' | 'unknown';

/** A data extent [start, end) of a sparse file, in bytes. */
export type Extent = readonly [start: number, end: number];

/** Extents of each side kept in a 'sparse' difference; `truncated` says a list was cut there. */
export const SPARSE_SHOWN = 16;

/** One difference between tree A and tree B; `path` is relative to the roots ('' is the root itself). */
export type Difference =
  | { kind: 'missing'; path: string; type: EntryType } // in A, not in B
  | { kind: 'extra'; path: string; type: EntryType } // in B, not in A
  | { kind: 'type'; path: string; a: EntryType; b: EntryType }
  | { kind: 'size'; path: string; a: number; b: number }
  | { kind: 'mode'; path: string; a: number; b: number }
  | { kind: 'owner'; path: string; a: Owner; b: Owner }
  | { kind: 'mtime'; path: string; a: bigint; b: bigint }
  | { kind: 'atime'; path: string; a: bigint; b: bigint }
  | { kind: 'rdev'; path: string; a: bigint; b: bigint }
  | { kind: 'target'; path: string; a: Buffer; b: Buffer }
  | { kind: 'xattr'; path: string; name: Buffer; a: Buffer | null; b: Buffer | null }
  | { kind: 'links'; path: string; a: string | null; b: string | null } // the first name of the same inode, null: none
  | { kind: 'sparse'; path: string; a: Extent[]; b: Extent[]; truncated: boolean }
  | { kind: 'content'; path: string; offset: number };

/** Every kind, in the order verify checks them for one entry. */
export const DIFFERENCE_KINDS = [
  'missing', 'extra', 'type', 'size', 'mode', 'owner', 'mtime', 'atime', 'rdev', 'target', 'xattr', 'links', 'sparse', 'content',
] as const satisfies readonly Difference['kind'][];

export interface Owner {
  uid: number;
  gid: number;
}

/** What to compare and how hard to work; every check is on unless switched off. */
export interface VerifyOptions {
  /** Compare uid/gid (default true). */
  owner?: boolean;
  /** Compare mtimes in ns (default true). */
  times?: boolean;
  /** Also compare atimes (default false: reading a tree changes them). */
  atime?: boolean;
  /** Compare extended attributes, ACLs included (default true). */
  xattrs?: boolean;
  /** Compare data extents of regular files (default true). */
  sparse?: boolean;
  /** Regular files compared at once (default 8). */
  jobs?: number;
  /** Stop after this many differences (e.g. 1 for --quiet); default: report all. */
  maxDifferences?: number;
}

/** Options with every default filled in. */
export type ResolvedOptions = Required<VerifyOptions>;

/** Fills in defaults; why: one place decides what "compare everything" means. */
export function resolveOptions(o: VerifyOptions = {}): ResolvedOptions {
  return {
    owner: o.owner ?? true,
    times: o.times ?? true,
    atime: o.atime ?? false,
    xattrs: o.xattrs ?? true,
    sparse: o.sparse ?? true,
    jobs: Math.max(1, Math.floor(o.jobs ?? 8)),
    maxDifferences: o.maxDifferences ?? Infinity,
  };
}

/** The outcome of a verify run, for the summary line. */
export interface VerifySummary {
  /** Differences reported. */
  differences: number;
  /** Entries looked at: every name in A or B (the roots included), not descending into missing/extra directories. */
  entries: number;
  /** Bytes of regular-file content in A compared against B. */
  bytes: number;
  /** True when the run stopped early at maxDifferences. */
  stopped: boolean;
}
