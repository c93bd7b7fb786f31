// Ship statistics: the counters, the JSON shape, and the --stats file written atomically.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { RillError } from '../../src/errors.js';
import { ShipStats, type ShipStatsReport } from '../../src/ship/stats.js';
import { tempDir } from '../helpers/tree.js';

const T0 = Date.parse('2026-01-02T03:04:05.000Z');

function clock(): { now: () => number; advance: (ms: number) => void } {
  let t = T0;
  return { now: () => t, advance: (ms) => void (t += ms) };
}

test('sends, acks, reconnects and lag per destination', () => {
  const c = clock();
  const stats = new ShipStats({ now: c.now });
  stats.add('ssh a');
  stats.connected('ssh a', null);
  stats.sent('ssh a', 1000, 10, 10);
  c.advance(1000);
  stats.sent('ssh a', 500, 5, 15);
  c.advance(2000);
  let a = stats.destination('ssh a');
  assert.equal(a.lagSeq, null, 'nothing acked yet: lag in seq unknown');
  assert.equal(a.lagSeconds, 3, 'the oldest unacked batch was sent 3 s ago');
  stats.acked('ssh a', 12);
  a = stats.destination('ssh a');
  assert.equal(a.eventsAcked, 10, 'only whole batches at or below the ack count');
  assert.equal(a.lagSeq, 3);
  assert.equal(a.lagSeconds, 2);
  assert.equal(a.lastAckAt, '2026-01-02T03:04:08.000Z');
  // The transport dies; the next session's sink holds through 15 (the rest was durable after all).
  stats.state('ssh a', 'retrying', 'transport exited with status 255');
  c.advance(500);
  stats.connected('ssh a', 15);
  a = stats.destination('ssh a');
  assert.deepEqual(
    { ...a },
    {
      name: 'ssh a',
      state: 'sending',
      bytesSent: 1500,
      eventsSent: 15,
      eventsAcked: 15,
      reconnects: 1,
      seqSent: 15,
      seqAcked: 15,
      lastAckAt: '2026-01-02T03:04:08.000Z',
      lagSeq: 0,
      lagSeconds: 0,
      lastError: 'transport exited with status 255',
    },
  );
});

test('a reconnect keeps the age of what must be sent again; an explicit count of acked events wins', () => {
  const c = clock();
  const stats = new ShipStats({ now: c.now });
  stats.connected('b', 100);
  stats.sent('b', 10, 2, 102);
  c.advance(4000);
  stats.connected('b', 100); // nothing new held: events 101..102 will be resent
  c.advance(1000);
  stats.sent('b', 10, 2, 102);
  let b = stats.destination('b');
  assert.equal(b.lagSeconds, 5, 'waiting since the first send');
  assert.equal(b.eventsSent, 4, 'resent events count again');
  stats.acked('b', 102, 2);
  b = stats.destination('b');
  assert.equal(b.eventsAcked, 2);
  assert.equal(b.lagSeconds, 0);
  assert.equal(b.lagSeq, 0);
});

test('the report: JSON shape, totals, end and exit status', () => {
  const c = clock();
  const stats = new ShipStats({ now: c.now });
  stats.connected('a', null);
  stats.sent('a', 100, 1, 1);
  stats.connected('b', null);
  stats.sent('b', 200, 1, 1);
  stats.acked('b', 1);
  c.advance(2500);
  const report = stats.finish(0);
  const line = stats.jsonLine();
  assert.ok(!line.includes('\n'), 'one line');
  const parsed = JSON.parse(line) as ShipStatsReport;
  assert.deepEqual(parsed, report);
  assert.equal(parsed.command, 'ship');
  assert.equal(parsed.version, 1);
  assert.equal(parsed.startedAt, '2026-01-02T03:04:05.000Z');
  assert.equal(parsed.endedAt, '2026-01-02T03:04:07.500Z');
  assert.equal(parsed.elapsedSeconds, 2.5);
  assert.equal(parsed.exitStatus, 0);
  assert.deepEqual(parsed.totals, { bytesSent: 300, eventsSent: 2, eventsAcked: 1, reconnects: 0 });
  assert.deepEqual(parsed.destinations.map((d) => d.name), ['a', 'b']);
  for (const d of parsed.destinations) {
    assert.deepEqual(Object.keys(d).sort(), ['bytesSent', 'eventsAcked', 'eventsSent', 'lagSeconds', 'lagSeq', 'lastAckAt', 'lastError', 'name', 'reconnects', 'seqAcked', 'seqSent', 'state'].sort());
  }
  c.advance(1000);
  assert.equal(stats.report().elapsedSeconds, 2.5, 'the end is fixed by finish');
});

test('--stats FILE: written at start, every interval and at exit, atomically, leaving no temporary file', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = `${dir}/ship-stats.json`;
    writeFileSync(file, 'old content');
    const stats = new ShipStats({ file, intervalMs: 20 }).start();
    const first = JSON.parse(readFileSync(file, 'utf8')) as ShipStatsReport;
    assert.equal(first.exitStatus, null);
    assert.equal(first.endedAt, null);
    stats.connected('ssh a', null);
    stats.sent('ssh a', 42, 1, 7);
    // Every read in between sees a whole report, old or new, never a partial one.
    const deadline = Date.now() + 2000;
    let seen: ShipStatsReport | undefined;
    while (Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 5));
      seen = JSON.parse(readFileSync(file, 'utf8')) as ShipStatsReport;
      if (seen.totals.bytesSent === 42) break;
    }
    assert.equal(seen?.totals.bytesSent, 42, 'the periodic write picked up the send');
    stats.finish(5);
    const last = JSON.parse(readFileSync(file, 'utf8')) as ShipStatsReport;
    assert.equal(last.exitStatus, 5);
    assert.ok(readFileSync(file, 'utf8').endsWith('}\n'));
    assert.deepEqual(readdirSync(dir), ['ship-stats.json'], 'no temporary file left');
  } finally {
    cleanup();
  }
});

test('a stats file that cannot be written: warned about while running, an io error at exit', () => {
  const { dir, cleanup } = tempDir();
  try {
    mkdirSync(`${dir}/is-a-dir`);
    const warnings: string[] = [];
    const stats = new ShipStats({ file: `${dir}/is-a-dir`, onWarning: (m) => warnings.push(m) }).start();
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /cannot write the stats file \(--stats\) ".*is-a-dir"/);
    assert.throws(
      () => stats.finish(0),
      (err: unknown) => err instanceof RillError && err.kind === 'io' && /is-a-dir/.test(err.message) && !/replica/.test(err.message),
    );
    assert.deepEqual(readdirSync(dir), ['is-a-dir'], 'the temporary file was removed');
  } finally {
    cleanup();
  }
});

test('without --stats nothing is written', () => {
  const stats = new ShipStats().start();
  stats.sent('x', 1, 0);
  assert.equal(stats.finish(0).totals.bytesSent, 1);
});
