// Events from a capture source into an encoder: numbered, written one by one, and paused whenever
// the encoder is full, so a slow reader slows the walk instead of filling memory.
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Writable } from 'node:stream';
import type { EventInput } from '../stream/events.js';
import { Sequencer } from '../stream/sequence.js';

/** Events written without a pause before the event loop gets a turn anyway (signals, timers, output). */
const TURN_EVERY = 4096;

/** Resolves on 'drain'; rejects if the stream fails or closes first. */
export function drained(sink: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (err?: Error): void => {
      sink.off('drain', onDrain);
      sink.off('error', onError);
      sink.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onDrain = (): void => done();
    const onError = (err: Error): void => done(err);
    const onClose = (): void => done(sink.errored ?? new Error('the output closed before the stream was complete'));
    sink.on('drain', onDrain);
    sink.on('error', onError);
    sink.on('close', onClose);
  });
}

export interface WriteOptions {
  /** Numbers the events (default: from 1). */
  seq?: Sequencer;
}

/**
 * Numbers each event (seq) and writes it to `sink`, honouring backpressure. A synchronous iterable
 * is consumed without a promise per event; an async one is awaited as usual. Returns the last seq.
 */
export async function writeEvents(
  events: Iterable<EventInput> | AsyncIterable<EventInput>,
  sink: Writable,
  options: WriteOptions = {},
): Promise<number> {
  const seq = options.seq ?? new Sequencer();
  let sinceTurn = 0;
  /** Writes one event; a promise only when the writer must wait (full encoder, or a turn is due). */
  const put = (e: EventInput): Promise<void> | undefined => {
    if (sink.destroyed) throw sink.errored ?? new Error('the output closed before the stream was complete');
    const ev = seq.assign(e);
    if (!sink.write(ev)) {
      sinceTurn = 0;
      return drained(sink);
    }
    if (++sinceTurn < TURN_EVERY) return undefined;
    sinceTurn = 0;
    return nextTurn();
  };
  if (Symbol.iterator in events) {
    for (const e of events) {
      const wait = put(e);
      if (wait !== undefined) await wait;
    }
  } else {
    for await (const e of events) await put(e);
  }
  return seq.last;
}
