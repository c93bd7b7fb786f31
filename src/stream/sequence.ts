// Assigns strictly increasing seq numbers to events of one source.
import type { Event, EventInput } from './events.js';

export class Sequencer {
  private nextSeq: number;

  constructor(first = 1) {
    this.nextSeq = first;
  }

  /** The event with the next seq (the input object is reused, not copied). */
  assign(input: EventInput): Event {
    const e = input as Event;
    e.seq = this.nextSeq++;
    return e;
  }

  /** seq of the last assigned event (first - 1 when none). */
  get last(): number {
    return this.nextSeq - 1;
  }
}
