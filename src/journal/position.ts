// Where a consumer stands in a journal: (source, seq) of the last event it holds.
import type { EventType } from '../stream/events.js';

/** Why: (source, seq) names an event everywhere: resume points, acks, trims. */
export interface Position {
  source: string;
  seq: number;
}

/**
 * Why: a full stream resent from its start carries, at or below the resume point, only the events
 * that name entries, so the receiver's final sweep still knows every name (ship's resume rule).
 */
export const NAMESPACE_EVENTS: ReadonlySet<EventType> = new Set<EventType>(['mkdir', 'create', 'symlink', 'link', 'mknod', 'rename', 'unlink', 'rmdir']);
