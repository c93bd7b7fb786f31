// Writing events into an encoder: seq numbers, backpressure (the source is paused while the sink is
// full), and failure of the sink surfacing instead of hanging.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { writeEvents } from '../../src/capture/emit.js';
import type { Event, EventInput } from '../../src/stream/events.js';
import { Sequencer } from '../../src/stream/sequence.js';

const note = (i: number): EventInput => ({ type: 'note', code: 'n', message: String(i) });

/** An object-mode sink that takes `delayMs` per event and records the most events it held at once. */
function slowSink(delayMs: number): { sink: Writable; got: Event[]; maxBuffered: () => number } {
  const got: Event[] = [];
  let max = 0;
  const sink = new Writable({
    objectMode: true,
    highWaterMark: 4,
    write(e: Event, _enc, cb) {
      got.push(e);
      max = Math.max(max, sink.writableLength);
      setTimeout(cb, delayMs);
    },
  });
  return { sink, got, maxBuffered: () => max };
}

test('events get consecutive seq numbers from the sequencer', async () => {
  const { sink, got } = slowSink(0);
  const last = await writeEvents([note(1), note(2), note(3)], sink, { seq: new Sequencer(10) });
  await new Promise<void>((r) => sink.end(r));
  assert.deepEqual(got.map((e) => e.seq), [10, 11, 12]);
  assert.equal(last, 12);
});

test('a slow sink pauses a synchronous source: it is pulled only as fast as the sink takes events', async () => {
  const { sink, got, maxBuffered } = slowSink(1);
  let pulled = 0;
  function* source(): Generator<EventInput> {
    for (let i = 0; i < 200; i++) {
      pulled++;
      assert.ok(pulled - got.length <= 6, `source ran ahead: pulled ${pulled}, sink has ${got.length}`);
      yield note(i);
    }
  }
  await writeEvents(source(), sink);
  await new Promise<void>((r) => sink.end(r));
  assert.equal(got.length, 200);
  assert.ok(maxBuffered() <= 5, `sink buffered ${maxBuffered()}`);
});

test('async sources work too', async () => {
  const { sink, got } = slowSink(0);
  async function* source(): AsyncGenerator<EventInput> {
    for (let i = 0; i < 20; i++) yield note(i);
  }
  await writeEvents(source(), sink);
  await new Promise<void>((r) => sink.end(r));
  assert.equal(got.length, 20);
});

test('a sink that fails while the writer waits for drain rejects the write (no hang)', async () => {
  const sink = new Writable({ objectMode: true, highWaterMark: 1, write: (_e, _enc, cb) => setTimeout(() => cb(new Error('EPIPE-ish')), 5) });
  sink.on('error', () => {});
  function* many(): Generator<EventInput> {
    for (let i = 0; i < 1000; i++) yield note(i);
  }
  await assert.rejects(writeEvents(many(), sink), /EPIPE-ish/);
});

test('a sink destroyed before the end rejects the next write', async () => {
  const { sink } = slowSink(0);
  sink.destroy();
  await assert.rejects(writeEvents([note(1)], sink), /closed/);
});
