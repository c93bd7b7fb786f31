// After a reconfigure that includes more than before: the entries now included that were not,
// scanned from the backing tree (mutations are paused meanwhile, so the scan is a consistent cut).
import type { EventInput } from '../../stream/events.js';
import { scanEvents } from '../scan.js';
import { eventPaths } from './events.js';
import type { LiveFilter } from './filter.js';

/** Scan events of the tree under the new filter, keeping only those about paths the old filter excluded. */
export function* newlyIncluded(backing: string, before: LiveFilter, after: LiveFilter, chunkSize: number): Generator<EventInput> {
  if (before.filter.empty) return; // everything was included already
  for (const e of scanEvents(backing, { filter: after.filter, chunkSize })) {
    const paths = eventPaths(e);
    if (paths.length === 0) continue;
    if (paths.every((p) => p === '' || !before.excludes(p, e.type === 'mkdir'))) continue;
    yield e;
  }
}
