// verify's core: walk both trees in one order, run the quick checks and small-file comparisons inline,
// compare larger regular files in a bounded pool (default 8 at once), and hand every difference to the
// caller in walk order.
import type { Difference, VerifyOptions, VerifySummary } from './difference.js';
import { resolveOptions } from './difference.js';
import { compareFiles } from './content.js';
import { compareSmallFiles, SMALL_FILE } from './small-file.js';
import { quickChecks, type CheckContext } from './compare-entry.js';
import { LinkGroups } from './links.js';
import { OrderedPool } from './ordered-pool.js';
import { walkTrees } from './walk.js';

/** Results allowed to wait behind a slow file before the walk pauses. */
const MAX_QUEUED = 1024;

/** Receives each difference in order; a returned promise is awaited (backpressure from stdout). */
export type DifferenceSink = (d: Difference) => void | Promise<void>;

/**
 * Compares tree (or file) `a` with `b` and reports every difference to `onDifference`. Why a library
 * function: `rill verify`, tests and later commands (replay checks, benchmarks) share it.
 * Throws a RillError('io') when a tree cannot be read; differences are never errors.
 */
export async function verifyTrees(a: string, b: string, options: VerifyOptions, onDifference: DifferenceSink): Promise<VerifySummary> {
  const opts = resolveOptions(options);
  const ctx: CheckContext = {
    A: { side: 'A', root: a },
    B: { side: 'B', root: b },
    options: opts,
    linksA: new LinkGroups(),
    linksB: new LinkGroups(),
  };
  const summary: VerifySummary = { differences: 0, entries: 0, bytes: 0, stopped: false };
  const stop = new AbortController();
  const pool = new OrderedPool<Difference[]>(opts.jobs, MAX_QUEUED, async (diffs) => {
    for (const d of diffs) {
      if (stop.signal.aborted) return;
      summary.differences++;
      await onDifference(d);
      if (summary.differences >= opts.maxDifferences) {
        summary.stopped = true;
        stop.abort();
      }
    }
  });

  for (const item of walkTrees(ctx.A, ctx.B)) {
    if (stop.signal.aborted) break;
    summary.entries++;
    const { differences, compareContent } = quickChecks(item, ctx);
    // Quick differences go out at once (in order), not after the content comparison of the same file.
    if (differences.length > 0) await pool.add(differences);
    if (compareContent && !stop.signal.aborted) {
      const size = item.a!.size;
      summary.bytes += size;
      if (size <= SMALL_FILE) {
        const found = compareSmallFiles(ctx.A, ctx.B, item.rel, size, opts.sparse);
        if (found.length > 0) await pool.add(found);
      } else {
        const check = { sparse: opts.sparse, signal: stop.signal };
        await pool.run(() => compareFiles(ctx.A, ctx.B, item.rel, size, check));
      }
    }
  }
  await pool.drain();
  return summary;
}
