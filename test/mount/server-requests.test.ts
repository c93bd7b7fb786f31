// The control server's request checking (src/control/server.ts parseRequest): what the protocol
// allows, and a message naming what is wrong otherwise. No FUSE needed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRequest } from '../../src/control/server.js';
import { MAX_PAUSE_MS } from '../../src/control/protocol.js';

test('valid requests parse to the protocol shapes', () => {
  assert.deepEqual(parseRequest('{"op":"status"}'), { op: 'status' });
  assert.deepEqual(parseRequest('{"op":"pause","timeoutMs":5000}'), { op: 'pause', timeoutMs: 5000 });
  assert.deepEqual(parseRequest('{"op":"bookmark","name":"n1","consistent":false}'), { op: 'bookmark', name: 'n1', consistent: false });
  assert.deepEqual(parseRequest('{"op":"reconfigure","exclude":["*.tmp","/cache/"]}'), { op: 'reconfigure', include: undefined, exclude: ['*.tmp', '/cache/'] });
});

test('invalid requests are refused with what is wrong', () => {
  const bad: [string, RegExp][] = [
    ['nope', /not a JSON object/],
    ['[1]', /JSON object with an "op"/],
    ['{"op":"launch"}', /unknown op "launch"/],
    ['{"op":"pause"}', /timeoutMs/],
    [`{"op":"pause","timeoutMs":${MAX_PAUSE_MS + 1}}`, /timeoutMs/],
    ['{"op":"pause","timeoutMs":1.5}', /timeoutMs/],
    ['{"op":"bookmark","name":""}', /needs a name/],
    ['{"op":"reconfigure","include":"*.c"}', /list of patterns/],
    ['{"op":"reconfigure","exclude":[""]}', /pattern "" is invalid/],
  ];
  for (const [line, why] of bad) assert.throws(() => parseRequest(line), why, line);
});
