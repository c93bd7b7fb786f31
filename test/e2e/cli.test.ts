// The command line itself: usage errors, version, unbuilt commands, quiet EPIPE, help == man page.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { rill, sh } from '../helpers/cli.js';
import { tempDir, makeTree } from '../helpers/tree.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

test('--version prints the package version', () => {
  const r = rill(['--version']);
  assert.equal(r.code, 0);
  assert.equal(r.stdout.toString().trim(), pkg.version);
});

test('usage errors exit 2 with one clear line', () => {
  for (const args of [['replay', '--bogus', '/tmp/x'], ['frobnicate'], [], ['verify', 'only-one']]) {
    const r = rill(args);
    assert.equal(r.code, 2, `rill ${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /rill/);
  }
});

test('every command of the contract is built: rill --help lists them, none marked not built', () => {
  const r = rill(['--help']);
  assert.equal(r.code, 0);
  const help = r.stdout.toString();
  for (const cmd of ['capture', 'freeze', 'bookmark', 'ship', 'sort-merge', 'replay', 'dump', 'undump', 'verify']) assert.match(help, new RegExp(`^  rill ${cmd}\\b`, 'm'), cmd);
  const commands = help.slice(help.indexOf('Commands:'), help.indexOf('Options:'));
  assert.doesNotMatch(commands, /not built yet/);
});

test('a reader that goes away ends the writer quietly with 141', () => {
  const { dir, cleanup } = tempDir();
  try {
    makeTree(`${dir}/src`, Array.from({ length: 50 }, (_, i) => ({ type: 'file' as const, path: `f${i}`, content: Buffer.alloc(200_000, i) })));
    const r = sh(`rill capture --scan '${dir}/src' | head -c 1000 > /dev/null; echo "status=\${PIPESTATUS[0]}"`);
    assert.match(r.stdout.toString(), /status=141/);
    assert.equal(r.stderr, '', 'no message for a closed pipe');
  } finally {
    cleanup();
  }
});

test('completion script is offered', () => {
  const r = rill(['completion']);
  assert.equal(r.code, 0);
  assert.match(r.stdout.toString(), /rill/);
});

/** Long options named in a roff page's OPTIONS section. */
function manOptions(cmd: string): Set<string> {
  const page = readFileSync(new URL(`../../man/rill-${cmd}.1`, import.meta.url), 'utf8');
  const start = page.indexOf('.SH OPTIONS');
  assert.ok(start >= 0, `man/rill-${cmd}.1 has an OPTIONS section`);
  const end = page.indexOf('\n.SH ', start + 1);
  const section = page.slice(start, end < 0 ? undefined : end).replaceAll('\\-', '-').replaceAll('\\fB', '').replaceAll('\\fR', '');
  return new Set([...section.matchAll(/--(?:\[no-\])?([a-z][a-z0-9-]*)/g)].map((m) => m[1]!.replace(/^no-/, '')));
}

/** Long options listed by `rill CMD --help`. */
function helpOptions(cmd: string): Set<string> {
  const r = rill([cmd, '--help']);
  assert.equal(r.code, 0);
  const names = [...r.stdout.toString().matchAll(/^\s+(?:-\w, )?--(?:\[no-\])?([a-z][a-z0-9-]*)/gm)].map((m) => m[1]!.replace(/^no-/, ''));
  return new Set(names.filter((n) => n !== 'help' && n !== 'version'));
}

for (const cmd of ['capture', 'freeze', 'bookmark', 'replay', 'verify', 'dump', 'undump', 'sort-merge']) {
  test(`rill ${cmd} --help and man/rill-${cmd}.1 list the same options`, () => {
    const help = helpOptions(cmd);
    const man = manOptions(cmd);
    man.delete('help');
    man.delete('version');
    assert.deepEqual([...help].sort(), [...man].sort());
  });
}

test('an output that cannot be written fails with 5 naming it, even when the input was fully read', () => {
  const header = '{"type":"header","magic":"rill","version":1,"source":"s","node":"n","kind":"tree","created":"0","root":{"path":"/"}}';
  for (const input of [`${header}\n{"type":"end"}\n`, `${header}\n${'{"type":"mkdir","seq":1,"path":"a","mode":493}\n'}{"type":"end"}\n`]) {
    const r = rill(['undump', '-o', '/nonexistent-dir/out.rill'], input);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, /^rill undump: cannot write the stream to "\/nonexistent-dir\/out\.rill": ENOENT/);
  }
});
