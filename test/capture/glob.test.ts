// rsync wildcard syntax → RegExp: each row is glob, text, whether the whole text matches.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { globSource } from '../../src/capture/glob.js';
import { RillError } from '../../src/errors.js';

const matches = (glob: string, text: string): boolean => new RegExp(`^(?:${globSource(glob)})$`, 'su').test(text);

const CASES: [string, string, boolean][] = [
  ['*.c', 'main.c', true],
  ['*.c', '.hidden.c', true], // no dot-file exception, as in rsync
  ['*.c', 'src/main.c', false], // '*' stays within a component
  ['**.c', 'src/main.c', true], // '**' crosses '/'
  ['a/**/b', 'a/x/y/b', true],
  ['a/**/b', 'a/b', false], // rsync: '**' between slashes needs something there
  ['a**b', 'ax/yb', true],
  ['?', 'x', true],
  ['?', '/', false],
  ['?', '\udce9', true], // one raw non-UTF-8 byte
  ['?', '\u{1F600}', true], // one code point, not one UTF-16 unit
  ['caf?', 'café', true],
  ['[ab]c', 'bc', true],
  ['[ab]c', 'cc', false],
  ['[!a]c', 'bc', true],
  ['[!a]c', 'ac', false],
  ['[^a]c', 'bc', true],
  ['[!a]', '/', false], // a negated class never matches '/'
  ['[a-c]x', 'bx', true],
  ['[]]', ']', true],
  ['[!]]', 'a', true],
  ['[[:digit:]]*', '7up', true],
  ['[[:upper:]]', 'a', false],
  ['[.$^]', '^', true],
  ['x[', 'x[', true], // an unclosed '[' is literal
  ['\\*', '*', true],
  ['\\*', 'a', false],
  ['a\\?', 'a?', true],
  ['a.b', 'axb', false], // regex characters are literal
  ['(a|b)+', '(a|b)+', true],
  ['{a,b}', '{a,b}', true], // no brace expansion in rsync
  ['!a', '!a', true], // no negation syntax
  ['*', 'line\nbreak', true],
  ['a$', 'a$', true],
];

for (const [glob, text, expected] of CASES) {
  test(`glob ${JSON.stringify(glob)} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(text)}`, () => {
    assert.equal(matches(glob, text), expected);
  });
}

test('an unknown character class is a usage error naming the pattern', () => {
  assert.throws(() => globSource('[[:nope:]]'), (err: unknown) => err instanceof RillError && err.kind === 'usage' && /\[:nope:\]/.test(err.message));
});
