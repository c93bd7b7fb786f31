// What a scan of a live tree meets: entries that change, vanish, or cannot be read while it walks.
// The scan never stops for them; it puts a note in the stream and tells the caller, who chooses
// what to say and how to exit (restic's archiver does the same with its error callback).
import type { EventInput, Path } from '../stream/events.js';
import { showPath } from '../stream/path.js';

export type ProblemCode = 'changed' | 'vanished' | 'unreadable';

/** One entry the scan could not capture exactly. */
export interface ScanProblem {
  code: ProblemCode;
  path: Path;
  message: string;
  cause?: NodeJS.ErrnoException;
}

/** The errno codes that mean "this entry is gone" (it, or a directory above it, was removed or replaced). */
const GONE = new Set(['ENOENT', 'ENOTDIR']);

/** How a failed system call on one entry is classified; undefined: not an entry's fault, so fatal. */
export function classify(err: unknown): 'vanished' | 'unreadable' | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || code === 'ENOMEM' || code === 'EMFILE' || code === 'ENFILE') return undefined;
  return GONE.has(code) ? 'vanished' : 'unreadable';
}

/** The problem for a failed call, or rethrows an error that is not about the entry. */
export function problemFor(path: Path, err: unknown): ScanProblem {
  const code = classify(err);
  if (code === undefined) throw err;
  const cause = err as NodeJS.ErrnoException;
  const what = cause.syscall ?? 'access';
  const message =
    code === 'vanished'
      ? `vanished during the scan (${cause.code} on ${what}); not in the stream`
      : `could not be read (${cause.code} on ${what}); not in the stream`;
  return { code, path, message, cause };
}

/** The note event that records a problem in the stream. */
export function problemNote(p: ScanProblem): EventInput {
  return { type: 'note', code: p.code, path: p.path, message: p.message };
}

/** One line for stderr about a problem. */
export function describeProblem(p: ScanProblem): string {
  return `${showPath(p.path)}: ${p.message}`;
}

/** The first note of every scan: a walk of a live tree is not a point in time. */
export function liveScanNote(root: string, what = 'full scan'): EventInput {
  return {
    type: 'note',
    code: 'live-scan',
    message:
      `${what} of ${showPath(root)}: the tree was read while it may have been in use, so this stream is not a ` +
      `consistent point in time; entries seen changing are marked by notes 'changed', 'vanished' or 'unreadable'`,
  };
}
