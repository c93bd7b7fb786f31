// What the capture command drives: events to number and write, then the state to commit once the
// whole stream reached its output (or drop when it did not, so the next run sends it again).
import type { EventInput } from '../stream/events.js';

export interface CaptureSource {
  /** The events of this run, in order (seqs are assigned by the writer). */
  events: Iterable<EventInput>;
  /** The stream was written completely, ending at lastSeq: put the new state in place. */
  commit(lastSeq: number): void;
  /** The stream failed: leave the old state (and remove temporary files). */
  abort(): void;
}
