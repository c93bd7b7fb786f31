// --include/--exclude for live events: a path is excluded when it, or any directory above it, is
// (rsync: an excluded directory is not descended into). Events crossing the boundary (a rename
// from an included to an excluded path, a link to an excluded file) cannot be mirrored exactly:
// they become a note telling a --scan resync to repair the replica.
import type { EventInput, Path } from '../../stream/events.js';
import { PathFilter, type FilterRule } from '../filter.js';
import { eventPaths } from './events.js';

const CACHE_MAX = 65536;

/** Why: the live filter, swapped whole by a reconfigure request; caches per-directory verdicts. */
export class LiveFilter {
  readonly filter: PathFilter;
  private readonly dirs = new Map<Path, boolean>();

  constructor(readonly rules: readonly FilterRule[]) {
    this.filter = new PathFilter(rules);
  }

  get include(): string[] {
    return this.rules.filter((r) => r.action === 'include').map((r) => r.pattern);
  }

  get exclude(): string[] {
    return this.rules.filter((r) => r.action === 'exclude').map((r) => r.pattern);
  }

  /** True when the path (a directory when isDir) is outside the capture. */
  excludes(path: Path, isDir: boolean): boolean {
    if (this.filter.empty || path === '') return false;
    const slash = path.lastIndexOf('/');
    if (slash >= 0 && this.dirExcluded(path.slice(0, slash))) return true;
    return this.filter.excludes(path, isDir);
  }

  private dirExcluded(dir: Path): boolean {
    const known = this.dirs.get(dir);
    if (known !== undefined) return known;
    const v = this.excludes(dir, true);
    if (this.dirs.size >= CACHE_MAX) this.dirs.clear();
    this.dirs.set(dir, v);
    return v;
  }

  /** The event to emit for e: itself, nothing (all its paths excluded), or a note (it crosses the boundary). */
  apply(e: EventInput, isDir: boolean): EventInput | undefined {
    if (this.filter.empty) return e;
    const paths = eventPaths(e);
    if (paths.length === 0) return e;
    const out = paths.map((p, i) => this.excludes(p, i === 0 ? isDir : isDir && e.type === 'rename'));
    if (out.every((x) => !x)) return e;
    if (out.every((x) => x)) return undefined;
    return {
      type: 'note',
      code: 'filter-boundary',
      message: `${e.type} ${paths.join(' -> ')} crosses the --include/--exclude boundary: the replica cannot follow it exactly; run a --scan resync`,
      path: paths[0]!,
      time: e.time,
    };
  }
}
