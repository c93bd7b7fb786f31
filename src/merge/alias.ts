// Two names the window did not see being linked may still be one file (hard links made before the
// window). Coalescing moves each file's changes to one point, which would reorder changes made
// through two such names. So before an op on a pre file is absorbed, the pending changes of other
// pre files that it could conflict with, were they the same file, are emitted first: overlapping
// byte ranges (1 MiB granularity), any truncate, times against data, the same metadata key.

const BUCKET = 1 << 20;

/** What an op touches, for the conflict test (a range by its first and last byte). */
export type Touch = { range: [first: number, last: number] } | { truncate: true } | { meta: string };

/** The pending ops of aliasable (pre, non-directory) files, indexed for conflicts. */
export class AliasIndex {
  private readonly buckets = new Map<number, Set<number>>();
  private readonly bucketsOf = new Map<number, Set<number>>();
  private readonly truncating = new Set<number>();
  private readonly withData = new Set<number>();
  private readonly meta = new Map<string, Set<number>>();

  /** Files other than id whose pending ops conflict with this op. */
  conflicts(id: number, t: Touch): Set<number> {
    const out = new Set<number>();
    const from = (ids: Iterable<number> | undefined): void => {
      for (const x of ids ?? []) if (x !== id) out.add(x);
    };
    if ('range' in t) {
      for (let b = bucket(t.range[0]); b <= bucket(t.range[1]); b++) from(this.buckets.get(b));
      from(this.truncating);
      from(this.meta.get('times'));
    } else if ('truncate' in t) {
      from(this.withData);
      from(this.meta.get('times'));
    } else {
      from(this.meta.get(t.meta));
      if (t.meta === 'times') from(this.withData);
    }
    return out;
  }

  /** Records an op of file id. */
  add(id: number, t: Touch): void {
    if ('range' in t) {
      this.withData.add(id);
      let mine = this.bucketsOf.get(id);
      if (mine === undefined) this.bucketsOf.set(id, (mine = new Set()));
      for (let b = bucket(t.range[0]); b <= bucket(t.range[1]); b++) {
        mine.add(b);
        let set = this.buckets.get(b);
        if (set === undefined) this.buckets.set(b, (set = new Set()));
        set.add(id);
      }
    } else if ('truncate' in t) {
      this.withData.add(id);
      this.truncating.add(id);
    } else {
      let set = this.meta.get(t.meta);
      if (set === undefined) this.meta.set(t.meta, (set = new Set()));
      set.add(id);
    }
  }

  /** Forgets file id (its changes were emitted or dropped). */
  remove(id: number): void {
    for (const b of this.bucketsOf.get(id) ?? []) {
      const set = this.buckets.get(b)!;
      set.delete(id);
      if (set.size === 0) this.buckets.delete(b);
    }
    this.bucketsOf.delete(id);
    this.truncating.delete(id);
    this.withData.delete(id);
    for (const set of this.meta.values()) set.delete(id);
  }
}

/** The bucket of a byte offset; a range [a, b) spans bucket(a)..bucket(b - 1). */
function bucket(offset: number): number {
  return Math.floor(offset / BUCKET);
}
