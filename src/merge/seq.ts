// seq numbers of the output. Events of one source keep seqs within the span of the input events they
// stand for, so the replica's progress after the output equals its progress after the input: every
// window's events fit below its bookmark (which keeps its seq), and the output ends on the input's
// last seq. An event keeps its own seq when that leaves room for the events still owed (each input
// event taken may still produce one); else it takes the next free number. Merged nodes (several
// seq spaces) number on from the largest seq seen instead.

/** Assigns strictly increasing seqs to output events. */
export class SeqAssigner {
  /** seq of the last output event (-1: none yet). */
  last = -1;
  /** seq of the last input event taken. */
  private cur = -1;
  /** Input events taken minus output events given since the last barrier. */
  private owed = 0;

  /** `bump`: several seq spaces merged (nodes): a seq is the preferred one or the next free one. */
  constructor(private readonly bump: boolean) {}

  /** Where the output starts (a change set's base: its events number on from it). */
  start(seq: number): void {
    this.last = Math.max(this.last, seq);
    this.cur = Math.max(this.cur, seq);
  }

  /** An input event was taken. */
  taken(seq: number): void {
    if (this.cur < 0) this.last = this.cur = seq - 1; // the output starts where the input does
    this.owed++;
    this.cur = Math.max(this.cur, seq);
  }

  /** The seq of an output event that would rather have `pref`. */
  next(pref: number): number {
    const keep = pref > this.last && (this.bump || this.owed - 1 <= this.cur - pref);
    this.last = keep ? pref : this.last + 1;
    this.owed--;
    return this.last;
  }

  /** A barrier keeps its own seq (a bookmark); what was owed before it is settled. */
  barrier(seq: number): number {
    if (this.bump) return this.next(seq);
    if (seq <= this.last) throw new Error(`internal error: the output of the events before seq ${seq} needs more seq numbers than they span`);
    this.last = seq;
    this.cur = Math.max(this.cur, seq);
    this.owed = 0;
    return seq;
  }
}
