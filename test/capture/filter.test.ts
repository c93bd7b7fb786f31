// rsync include/exclude semantics as a table, including the examples of rsync(1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PathFilter, compilePattern, type FilterRule } from '../../src/capture/filter.js';
import { RillError } from '../../src/errors.js';

const ex = (pattern: string): FilterRule => ({ action: 'exclude', pattern });
const inc = (pattern: string): FilterRule => ({ action: 'include', pattern });

/** One pattern: path, isDir → does the pattern match it. */
const PATTERN_CASES: [pattern: string, path: string, isDir: boolean, matches: boolean][] = [
  // No '/': the last component, at any depth.
  ['*.o', 'x.o', false, true],
  ['*.o', 'a/b/x.o', false, true],
  ['*.o', 'x.o/y', false, false],
  ['foo', 'a/foo', true, true],
  ['foo', 'a/foobar', false, false],
  // Leading '/': anchored at ROOT.
  ['/foo', 'foo', false, true],
  ['/foo', 'a/foo', false, false],
  ['/a/*.c', 'a/x.c', false, true],
  ['/a/*.c', 'b/a/x.c', false, false],
  // Trailing '/': directories only.
  ['foo/', 'foo', true, true],
  ['foo/', 'foo', false, false],
  ['foo/', 'a/foo', true, true],
  // A '/' inside: the full path, at any component boundary.
  ['a/b', 'a/b', false, true],
  ['a/b', 'x/a/b', false, true],
  ['a/b', 'xa/b', false, false],
  ['a/b', 'a/b/c', false, false],
  ['foo/*/bar', 'foo/x/bar', false, true],
  ['foo/*/bar', 'top/foo/x/bar', false, true],
  ['foo/*/bar', 'foo/x/y/bar', false, false],
  // '**' alone makes it a full-path pattern, and crosses '/'.
  ['**/x', 'a/b/x', false, true],
  ['**/x', 'x', false, false],
  ['a**', 'ab/c', false, true],
  ['/foo/**/bar', 'foo/x/bar', false, true],
  ['/foo/**/bar', 'foo/x/y/bar', true, true],
  ['/foo/**/bar', 'foo/bar', false, false], // rsync(1): "/foo/bar is not excluded by this"
  ['/foo/**/bar', 'z/foo/x/bar', false, false],
  // 'dir/***': the directory itself and everything below it.
  ['dir/***', 'dir', true, true],
  ['dir/***', 'dir/a', false, true],
  ['dir/***', 'dir/a/b', true, true],
  ['dir/***', 'x/dir/a', false, true],
  ['dir/***', 'dir', false, false],
  ['dir/***', 'dirt', true, false],
  ['/dir/***', 'x/dir/a', false, false],
  // Non-UTF-8 and odd names.
  ['caf?', 'caf\udce9', false, true],
  ['*\n*', 'a/new\nline', false, true],
];

for (const [pattern, path, isDir, expected] of PATTERN_CASES) {
  test(`pattern ${JSON.stringify(pattern)} ${expected ? 'matches' : 'does not match'} ${isDir ? 'dir' : 'file'} ${JSON.stringify(path)}`, () => {
    const name = path.slice(path.lastIndexOf('/') + 1);
    assert.equal(compilePattern(pattern)(path, name, isDir), expected);
  });
}

/** Rule lists: path, isDir → excluded. The rsync(1) examples first. */
const LIST_CASES: [title: string, rules: FilterRule[], cases: [string, boolean, boolean][]][] = [
  [
    '"+ */", "+ *.c", "- *" keeps directories and .c files only',
    [inc('*/'), inc('*.c'), ex('*')],
    [['src', true, false], ['src/a.c', false, false], ['src/a.h', false, true], ['README', false, true], ['x.c', true, false]],
  ],
  [
    '"+ foo/", "+ foo/bar.c", "- *" keeps only foo and foo/bar.c',
    [inc('foo/'), inc('foo/bar.c'), ex('*')],
    [['foo', true, false], ['foo/bar.c', false, false], ['foo/baz.c', false, true], ['bar', true, true]],
  ],
  [
    'first match wins: an include before an exclude keeps',
    [inc('keep.tmp'), ex('*.tmp')],
    [['keep.tmp', false, false], ['a/keep.tmp', false, false], ['x.tmp', false, true], ['x.txt', false, false]],
  ],
  [
    'first match wins: an exclude before an include drops',
    [ex('*.tmp'), inc('keep.tmp')],
    [['keep.tmp', false, true], ['x.txt', false, false]],
  ],
  ['no rules: everything is included', [], [['a', false, false], ['a/b', true, false]]],
  ['the root is never excluded', [ex('*'), ex('/')], [['', true, false], ['a', true, true]]],
];

for (const [title, rules, cases] of LIST_CASES) {
  test(`filter: ${title}`, () => {
    const f = new PathFilter(rules);
    for (const [path, isDir, excluded] of cases) {
      assert.equal(f.excludes(path, isDir), excluded, `${JSON.stringify(path)} (${isDir ? 'dir' : 'file'})`);
    }
  });
}

test('an empty pattern is a usage error', () => {
  assert.throws(() => new PathFilter([ex('')]), (err: unknown) => err instanceof RillError && err.kind === 'usage');
});

test('a filter with no rules says so (the scan skips matching altogether)', () => {
  assert.equal(new PathFilter([]).empty, true);
  assert.equal(new PathFilter([ex('x')]).empty, false);
});
