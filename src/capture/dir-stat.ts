// A directory listed with the lstat of every entry in one native call (sys.statDir), entries in
// byte order of their names: what an incremental scan's walk needs, without a Stats object each.
import { sys } from '../sys/native.js';

const FIELDS = 15;

/** One listed entry: its name (bytes) and the numbers lstat gave (errno when it failed). */
export interface DirEntryStat {
  name: Buffer;
  /** -errno when this entry could not be stat'ed. */
  mode: number;
  ino: number;
  dev: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: number;
  blocks: number;
  atime: bigint;
  mtime: bigint;
  ctime: bigint;
}

const ns = (s: number, n: number): bigint => BigInt(s) * 1_000_000_000n + BigInt(n);

/** The entries of the directory at abs (not following a symlink there), sorted by name bytes. */
export function statDir(abs: string | Buffer): DirEntryStat[] {
  const { names, stats } = sys.statDir(abs);
  const out: DirEntryStat[] = [];
  let start = 0;
  for (let i = 0; start < names.length; i++) {
    const end = names.indexOf(0, start);
    const f = i * FIELDS;
    out.push({
      name: names.subarray(start, end),
      mode: stats[f]!,
      ino: stats[f + 1]!,
      dev: stats[f + 2]!,
      nlink: stats[f + 3]!,
      uid: stats[f + 4]!,
      gid: stats[f + 5]!,
      rdev: stats[f + 6]!,
      size: stats[f + 7]!,
      blocks: stats[f + 8]!,
      atime: ns(stats[f + 9]!, stats[f + 10]!),
      mtime: ns(stats[f + 11]!, stats[f + 12]!),
      ctime: ns(stats[f + 13]!, stats[f + 14]!),
    });
    start = end + 1;
  }
  out.sort((a, b) => Buffer.compare(a.name, b.name));
  return out;
}
