// rill ship's command line: its usage errors, and --help agreeing with man/rill-ship.1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rill } from '../helpers/cli.js';

test('usage errors name what is wrong and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [['ship'], /name the sink: rill ship \[options\] -- CMD/],
    [['ship', '--from', 'a', '--spool', 'b', '--', 'true'], /--from DIR ships a journal; --spool DIR spools stdin/],
    [['ship', '--sink', 'd', '--', 'true'], /--sink DIR receives on stdin: it takes no/],
    [['ship', '--ack-timeout', 'soon', '--', 'true'], /--ack-timeout "soon" is not a duration/],
    [['ship', '--bwlimit', 'fast', '--', 'true'], /--bwlimit "fast" is not a rate/],
    [['ship', '--compress', 'lz4', '--', 'true'], /Invalid values:[\s\S]*compress/],
    [['ship', '--segment-size', '1', '--', 'true'], /--segment-size "1" is not a size/],
    [['replay', '--ack', '--dry-run', '/tmp/x'], /--ack and --dry-run do not go together/],
  ];
  for (const [args, message] of cases) {
    const r = rill(args, '');
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
});

test('rill ship --help and man/rill-ship.1 name the same options', () => {
  const help = rill(['ship', '--help']);
  assert.equal(help.code, 0);
  const fromHelp = new Set([...help.stdout.toString().matchAll(/--([a-z][a-z-]*)/g)].map((m) => m[1]!));
  fromHelp.delete('help');
  fromHelp.delete('version');
  const man = readFileSync(new URL('../../man/rill-ship.1', import.meta.url), 'utf8');
  const fromMan = new Set([...man.matchAll(/\\-\\-([a-z][a-z\\-]*[a-z])/g)].map((m) => m[1]!.replaceAll('\\-', '-')));
  assert.deepEqual([...fromHelp].sort(), [...fromMan].sort());
  assert.ok(fromHelp.has('spool') && fromHelp.has('sink') && fromHelp.has('ack-timeout'));
});
