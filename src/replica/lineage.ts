// Does a stream fit the replica? Checked at each header, before any of its events: the replica
// follows one source, and a change set needs every event of that source up to its base applied.
// The replica also records which stream of its source it applied last (the header's `created`):
// two capture runs of one source can number different events alike (a run whose capture did not
// commit its state is followed by one that numbers from the same base again), so seqs another
// stream applied are never skipped as if this one had.
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
  /** `created` of the stream it applied last (ns since the epoch, decimal); undefined: unknown (an older record). */
  created?: string;
  /** The seq comes from the mark of a replay that stopped between commits: part of later events may be applied too. */
  interrupted?: boolean;
}

/** How a header's `created` is recorded (state.json, the mark, a volume's state): ns since the epoch, decimal. */
export function streamCreated(h: Header): string {
  return h.created.toString();
}

/** False only when both are known and differ: two different streams (capture runs) of a source. */
export function sameStream(a: string | undefined, b: string | undefined): boolean {
  return a === undefined || b === undefined || a === b;
}

/** A recorded `created` for people: ISO 8601 time. */
function createdAt(created: string): string {
  try {
    const d = new Date(Number(BigInt(created) / 1_000_000n));
    if (!Number.isNaN(d.getTime())) return d.toISOString();
  } catch {
    // not a number: show it as it is
  }
  return created;
}

/**
 * Refuses a stream that does not fit (kind 'mismatch'); returns the seq through which its events
 * were applied before and are to be skipped (-1: none). `log` gets notes for people.
 */
export function checkHeader(h: Header, applied: Applied | undefined, force: boolean, root: string, log?: (line: string) => void): number {
  if (applied !== undefined && applied.source !== h.source && !force) {
    const from = [applied.node && `node ${applied.node}`, applied.updated && `updated ${applied.updated}`, applied.interrupted && 'a replay of it stopped before its end']
      .filter(Boolean)
      .join(', ');
    throw new RillError('mismatch', `${root} is a replica of source ${applied.source} (${from}); this stream is from source ${h.source} (node ${h.node})`, {
      hint: `replay the streams of source ${applied.source} there, or pass --force to let a full stream of source ${h.source} replace the replica`,
    });
  }
  const done = applied?.source === h.source ? applied.seq : -1;
  const created = streamCreated(h);
  if (applied !== undefined && applied.source === h.source && !sameStream(applied.created, created)) {
    // Another stream of this source than the one the replica applied last: its seqs up to `done`
    // are not the events the replica holds, so none is skipped.
    const before = createdAt(applied.created!);
    if (h.full === true) {
      log?.(`note: ${root} applied seqs through ${done} of source ${h.source} from another stream of it (created ${before}); this full stream (created ${createdAt(created)}) is applied whole, nothing skipped: it makes the replica exact by itself`);
      return -1;
    }
    const base = h.base;
    if (base !== undefined && (base < done || (base === done && applied.interrupted === true))) {
      const held =
        base < done
          ? `seqs ${base + 1}..${done}${applied.interrupted === true ? ' (and maybe part of later ones: a replay of it stopped there)' : ''}`
          : `part of the events after seq ${done} (a replay of it stopped there)`;
      throw new RillError(
        'mismatch',
        `${root} has applied ${held} of another stream of source ${h.source} (created ${before}, an interrupted run whose capture did not commit its state), ` +
          `which this change set (created ${createdAt(created)}, on top of seq ${base}) does not build on: its own seqs from ${base + 1} are other events`,
        { hint: 'resync the replica with a full stream (rill capture --scan --state FILE --full ROOT | rill replay ...), or replay a full stream of the source' },
      );
    }
  }
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
  const known = state === undefined ? undefined : { source: state.source, seq: state.lastSeq, node: state.node, updated: state.updated, created: state.created };
  if (mark === undefined) return known;
  if (mark.source === known?.source && sameStream(mark.created, known.created)) {
    return { ...known, seq: Math.max(mark.seq, known.seq), created: mark.created ?? known.created, interrupted: true };
  }
  // The mark is newer than the state: a stream of another source, or another stream of this one, was being applied.
  return { source: mark.source, seq: mark.seq, created: mark.created, interrupted: true };
}
