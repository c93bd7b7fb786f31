// The relative order of --include and --exclude, recovered from the raw command line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterRulesFromArgv } from '../../src/capture/filter-argv.js';
import { RillError } from '../../src/errors.js';

test('both forms, interleaved, keep their command-line order', () => {
  const tokens = ['capture', '--scan', '--include', 'a', '--exclude=*.tmp', '/root', '--include=b', '--exclude', 'c'];
  const rules = filterRulesFromArgv(tokens, { include: ['a', 'b'], exclude: ['*.tmp', 'c'] });
  assert.deepEqual(rules, [
    { action: 'include', pattern: 'a' },
    { action: 'exclude', pattern: '*.tmp' },
    { action: 'include', pattern: 'b' },
    { action: 'exclude', pattern: 'c' },
  ]);
});

test('a value that looks like a flag is taken as the value it is', () => {
  const rules = filterRulesFromArgv(['--exclude', '--include', '--include', 'x'], { include: ['x'], exclude: ['--include'] });
  assert.deepEqual(rules, [
    { action: 'exclude', pattern: '--include' },
    { action: 'include', pattern: 'x' },
  ]);
});

test('tokens after -- are not options', () => {
  const rules = filterRulesFromArgv(['--exclude', 'a', '--include', 'b', '--', '--exclude', 'c'], { include: 'b', exclude: 'a' });
  assert.deepEqual(rules.map((r) => r.pattern), ['a', 'b']);
});

test('one kind only needs no tokens (yargs kept their order)', () => {
  assert.deepEqual(filterRulesFromArgv([], { exclude: ['x', 'y'] }), [
    { action: 'exclude', pattern: 'x' },
    { action: 'exclude', pattern: 'y' },
  ]);
  assert.deepEqual(filterRulesFromArgv([], {}), []);
});

test('tokens that disagree with what yargs parsed are refused, not guessed', () => {
  assert.throws(
    () => filterRulesFromArgv(['--include', 'a'], { include: ['a'], exclude: ['b'] }),
    (err: unknown) => err instanceof RillError && err.kind === 'usage' && /order/.test(err.message),
  );
});
