// The upstream half of the session protocol: signature, hello/ack/alive/error, noise before the signature.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import fc from 'fast-check';
import { agreeVersion, controlBytes, ControlParser, helloBytes, SESSION_SIGNATURE, type Control } from '../../src/ship/session.js';
import { Upstream } from '../../src/ship/upstream.js';

const hello = helloBytes({ role: 'replay', node: 'n', source: 'S', seq: 41 });

test('a hello, acks and an error parse in order however the bytes are cut', () => {
  const bytes = Buffer.concat([hello, controlBytes({ t: 'ack', source: 'S', seq: 42 }), controlBytes({ t: 'alive' }), controlBytes({ t: 'error', kind: 'io', exit: 5, message: 'disk full' })]);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: bytes.length }), { maxLength: 12 }), (cuts) => {
      const p = new ControlParser();
      const got: Control[] = [];
      let at = 0;
      for (const c of [...cuts.sort((a, b) => a - b), bytes.length]) {
        got.push(...p.push(bytes.subarray(at, Math.max(at, c))));
        at = Math.max(at, c);
      }
      assert.deepEqual(
        got.map((c) => c.t),
        ['hello', 'ack', 'alive', 'error'],
      );
      assert.equal((got[0] as { seq: number }).seq, 41);
      assert.equal((got[3] as { message: string }).message, 'disk full');
    }),
  );
});

test('noise before the signature (a login banner) is reported once and skipped', () => {
  const seen: [string, number][] = [];
  const p = new ControlParser((shown, n) => seen.push([shown, n]));
  const banner = Buffer.from('Welcome to standby!\nLast login: yesterday\n');
  const got = [...p.push(banner.subarray(0, 10)), ...p.push(Buffer.concat([banner.subarray(10), hello.subarray(0, 5)])), ...p.push(hello.subarray(5))];
  assert.equal(got.length, 1);
  assert.equal(got[0]!.t, 'hello');
  assert.equal(seen.length, 1);
  assert.equal(seen[0]![1], banner.length);
  assert.match(seen[0]![0], /Welcome to standby!\\nLast login/);
});

test('garbage after the signature, an unknown record and endless noise are clear errors', () => {
  assert.throws(() => new ControlParser().push(Buffer.concat([SESSION_SIGNATURE, Buffer.from([0xff, 0xff])])), /not a session record|malformed/);
  assert.throws(() => new ControlParser().push(Buffer.concat([SESSION_SIGNATURE, controlBytes({ t: 'nope' } as unknown as Control)])), /unknown record type "nope"/);
  const p = new ControlParser();
  assert.throws(() => {
    for (let i = 0; i < 100; i++) p.push(Buffer.alloc(1024, 0x41));
  }, /printed \d+ bytes and no rill session/);
});

test('protocol versions: an overlap is agreed, none is refused naming both', () => {
  assert.equal(agreeVersion([1, 3]), 1);
  assert.throws(() => agreeVersion([2, 3]), (e: Error) => /speaks session protocol 2\.\.3, this rill speaks 1\.\.1/.test(e.message));
});

test('Upstream: hello first, acks only when they advance', () => {
  const out = new PassThrough();
  const up = new Upstream(out);
  up.hello({ role: 'sink', node: 'n', source: 'S', seq: 5 });
  up.ack('S', 5);
  up.ack('S', 7);
  up.ack('S', 6);
  up.ack('T', 1);
  const got = new ControlParser().push(out.read() as Buffer);
  assert.deepEqual(
    got.map((c) => (c.t === 'ack' ? `${c.source}${c.seq}` : c.t)),
    ['hello', 'S7', 'T1'],
  );
});
