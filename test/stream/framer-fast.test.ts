// The framer writes write records by hand (framer.ts appendWrite): the bytes must be exactly what
// the generic path (recordToWire + cbor-x) writes, for every shape it takes or declines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StreamFramer } from '../../src/stream/framer.js';
import type { Event, Header } from '../../src/stream/events.js';

const header: Header = {
  type: 'header', magic: 'rill', version: 1, source: 's', node: 'n', kind: 'tree', root: { path: '/r' }, created: 5n,
};

function frames(events: Event[], generic: boolean, transient: boolean): Buffer {
  const out: Buffer[] = [];
  const f = new StreamFramer((pieces) => out.push(Buffer.concat(pieces)), { frameBytes: 64 * 1024, transient });
  if (generic) (f as unknown as { appendWrite: () => boolean }).appendWrite = () => false;
  f.header(header);
  for (const e of events) f.event(e);
  f.end();
  return Buffer.concat(out);
}

test('hand-encoded write records are byte for byte what the generic encoder writes', () => {
  const paths = ['', 'a', 'd/f.txt', 'x'.repeat(23), 'y'.repeat(24), 'z/'.repeat(200), 'caf\u00e9/\u{1f600}', 'g\udcff'];
  const sizes = [0, 1, 23, 24, 255, 256, 1023, 1024, 65535, 65536, 300_000];
  const offsets = [0, 23, 24, 255, 256, 65535, 65536, 2 ** 32 - 1, 2 ** 32, 2 ** 40];
  const times: (bigint | undefined)[] = [undefined, 0n, 5n, 2n ** 53n - 1n, 2n ** 53n, 1_795_607_563_589_162_088n, 2n ** 64n - 1n, -(2n ** 60n)];
  const events: Event[] = [];
  let seq = 0;
  let k = 0;
  for (const path of paths) {
    for (const size of sizes) {
      const data = Buffer.alloc(size, k & 0xff);
      events.push({ type: 'write', seq: ++seq, path, offset: offsets[k % offsets.length]!, data, time: times[k % times.length] } as Event);
      k++;
    }
  }
  for (const s of [2 ** 32 - 1, 2 ** 32, 2 ** 32 + 1]) events.push({ type: 'write', seq: s, path: 'p', offset: 1, data: Buffer.alloc(3) });
  for (const transient of [false, true]) {
    assert.ok(frames(events, false, transient).equals(frames(events, true, transient)), `transient ${transient}`);
  }
});
