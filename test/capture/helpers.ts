// Shared by the capture tests: run a scan into an array, and small views of event lists.
import { scanEvents, type ScanOptions } from '../../src/capture/scan.js';
import type { ScanProblem } from '../../src/capture/problems.js';
import type { EventInput } from '../../src/stream/events.js';

/** All events of a scan, and the problems it reported. */
export function scan(root: string, options: ScanOptions = {}): { events: EventInput[]; problems: ScanProblem[] } {
  const problems: ScanProblem[] = [];
  const events = [...scanEvents(root, { ...options, onProblem: (p) => problems.push(p) })];
  return { events, problems };
}

/** The events that name `path`. */
export function about(events: EventInput[], path: string): EventInput[] {
  return events.filter((e) => 'path' in e && e.path === path);
}

/** Every path an event creates (mkdir, create, symlink, link, mknod), in stream order. */
export function createdPaths(events: EventInput[]): string[] {
  const kinds = new Set(['mkdir', 'create', 'symlink', 'link', 'mknod']);
  return events.filter((e) => kinds.has(e.type)).map((e) => (e as { path: string }).path);
}

/** Event kinds, one per event, for order assertions. */
export function kinds(events: EventInput[]): string[] {
  return events.map((e) => e.type);
}

/** A fixed time in ns, plus `s` seconds. */
export const T0 = 1_700_000_000_123_456_789n;
export const at = (s: number): bigint => T0 + BigInt(s) * 1_000_000_000n;

/**
 * An atime a day ahead: with relatime, reading a directory (or a file without O_NOATIME) updates
 * its atime only when that is not newer than its mtime and ctime, so tests that scan twice set this.
 */
export const futureAtime = (): bigint => BigInt(Date.now() + 86_400_000) * 1_000_000n;
