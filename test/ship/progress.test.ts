// Ship progress: silent off a terminal; on one (a fake TTY stream), a line per destination.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { ShipProgress, formatBytes, formatLine } from '../../src/ship/progress.js';
import type { DestinationStats } from '../../src/ship/stats.js';

/** A Writable that records what is written, posing as a terminal when tty is true. */
function fakeStream(tty: boolean): Writable & { isTTY?: boolean; columns?: number; text: () => string } {
  const chunks: string[] = [];
  const w = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  }) as Writable & { isTTY?: boolean; columns?: number; text: () => string };
  if (tty) {
    w.isTTY = true;
    w.columns = 120;
  }
  w.text = () => chunks.join('');
  return w;
}

const snap = (over: Partial<DestinationStats> = {}): DestinationStats => ({
  name: 'ssh standby rill replay --ack /data',
  state: 'sending',
  bytesSent: 5 * 1024 * 1024,
  eventsSent: 1200,
  eventsAcked: 1100,
  reconnects: 0,
  seqSent: 1200,
  seqAcked: 1100,
  lastAckAt: null,
  lagSeq: 100,
  lagSeconds: 1.25,
  lastError: null,
  ...over,
});

test('not a terminal: no progress lines, log messages as plain lines', async () => {
  const out = fakeStream(false);
  const p = new ShipProgress({ stream: out });
  assert.equal(p.active, false);
  p.update('ssh standby', snap());
  p.log('a message');
  p.stop();
  await new Promise((r) => setTimeout(r, 250));
  assert.equal(out.text(), 'a message\n');
});

test('a terminal: a line per destination with its name and numbers', () => {
  const out = fakeStream(true);
  let t = 0;
  const p = new ShipProgress({ stream: out, now: () => t });
  assert.equal(p.active, true);
  p.update('ssh standby', snap({ bytesSent: 0 }));
  p.update('ssh backup', snap({ bytesSent: 0, state: 'retrying', reconnects: 2 }));
  t = 1000;
  p.update('ssh standby', snap({ bytesSent: 2 * 1024 * 1024 }));
  p.update('ssh backup', snap({ bytesSent: 1024, state: 'retrying', reconnects: 2 }));
  p.log('ssh backup: transport exited with status 255');
  p.stop();
  const text = out.text();
  assert.match(text, /ssh standby/);
  assert.match(text, /ssh backup/);
  assert.match(text, /2\.00 MiB sent/);
  assert.match(text, /2\.00 MiB\/s/);
  assert.match(text, /1100\/1200 events acked/);
  assert.match(text, /lag 100 seq 1\.3 s/);
  assert.match(text, /2 reconnects/);
  p.stop(); // idempotent
});

test('formatLine and formatBytes', () => {
  assert.equal(formatBytes(0), '0 B');
  assert.equal(formatBytes(1536), '1.50 KiB');
  assert.equal(formatBytes(150 * 1024 * 1024), '150 MiB');
  const line = formatLine('dest', snap({ lagSeq: null, reconnects: 1 }));
  assert.match(line, /^dest {2}sending {5}5\.00 MiB sent {2}\s+-\/s {2}1100\/1200 events acked {2}lag \? seq 1\.3 s {2}1 reconnect$/);
});
