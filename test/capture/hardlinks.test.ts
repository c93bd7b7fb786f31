// The hard-link map: remembers only multiply-linked inodes, and forgets each once all names were seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BigIntStats } from 'node:fs';
import { HardLinks } from '../../src/capture/hardlinks.js';

const st = (ino: number, nlink: number, dev = 1): BigIntStats => ({ dev: BigInt(dev), ino: BigInt(ino), nlink: BigInt(nlink) }) as BigIntStats;

test('single-link files are never remembered', () => {
  const h = new HardLinks();
  h.remember(st(1, 1), 'a');
  assert.equal(h.size, 0);
  assert.equal(h.firstName(st(1, 1)), undefined);
});

test('later names get the first name; the entry goes once every name was seen', () => {
  const h = new HardLinks();
  assert.equal(h.firstName(st(5, 3)), undefined, 'the first name is not known yet');
  h.remember(st(5, 3), 'first');
  assert.equal(h.size, 1);
  assert.equal(h.firstName(st(5, 3)), 'first');
  assert.equal(h.size, 1);
  assert.equal(h.firstName(st(5, 3)), 'first');
  assert.equal(h.size, 0, 'all three names seen: forgotten');
});

test('the same inode number on another device is another file', () => {
  const h = new HardLinks();
  h.remember(st(7, 2, 1), 'on-dev-1');
  assert.equal(h.firstName(st(7, 2, 2)), undefined);
  assert.equal(h.firstName(st(7, 2, 1)), 'on-dev-1');
});
