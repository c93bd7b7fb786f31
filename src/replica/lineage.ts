// Does a stream fit the replica? Checked at each header, before any of its events: the replica
// follows one source, and a change set needs every event of that source up to its base applied.
import { RillError } from '../errors.js';
import type { Header } from '../stream/events.js';
import type { Mark } from './progress.js';
import type { ReplicaState } from './state.js';

/** What the replica has applied: from state.json, or from the mark of a replay that stopped. */
export interface Applied {
  source: string;
  seq: number;
  node?: string;
  updated?: string;
  /** The seq comes from the mark of a replay that stopped between commits. */
  interrupted?: boolean;
}

/**
 * Refuses a stream that does not fit (kind 'mismatch'); returns the seq through which its events
 * were applied before and are to be skipped (-1: none).
 */
export function checkHeader(h: Header, applied: Applied | undefined, force: boolean, root: string): number {
  if (applied !== undefined && applied.source !== h.source && !force) {
    const from = [applied.node && `node ${applied.node}`, applied.updated && `updated ${applied.updated}`, applied.interrupted && 'a replay of it stopped before its end']
      .filter(Boolean)
      .join(', ');
    throw new RillError('mismatch', `${root} is a replica of source ${applied.source} (${from}); this stream is from source ${h.source} (node ${h.node})`, {
      hint: `replay the streams of source ${applied.source} there, or pass --force to let a full stream of source ${h.source} replace the replica`,
    });
  }
  const done = applied?.source === h.source ? applied.seq : -1;
  if (h.full !== true && h.base !== undefined && done < h.base) {
    const missing = done < 0 ? `every event through seq ${h.base} of source ${h.source} is missing (the replica has applied none of it)` : `seq ${done + 1}..${h.base} of source ${h.source} are missing`;
    throw new RillError('mismatch', `this stream is a change set on top of seq ${h.base} of source ${h.source}, but ${missing}`, {
      hint: 'replay the missing streams first, in order, or a full stream of the source (rill capture --scan --state FILE --full)',
    });
  }
  return done;
}

/** What the replica has applied, from its state file and the live mark of a replay that stopped since. */
export function appliedFrom(state: ReplicaState | undefined, mark: Mark | undefined): Applied | undefined {
  const known = state === undefined ? undefined : { source: state.source, seq: state.lastSeq, node: state.node, updated: state.updated };
  if (mark === undefined) return known;
  if (mark.source === known?.source) return { ...known, seq: Math.max(mark.seq, known.seq), interrupted: true };
  return { source: mark.source, seq: mark.seq, interrupted: true };
}
