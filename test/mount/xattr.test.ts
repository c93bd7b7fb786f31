// Extended attributes through the mount: set, overwrite, remove, list, binary and empty values, an
// xattr that travels with a rename; failed calls (XATTR_CREATE on an existing name, XATTR_REPLACE on
// a missing one) fail as they would on the backing tree and are not recorded. The replica ends with
// exactly the same attributes, and `rill verify` says so (and would notice if they differed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { dumpEvents, fuseMountsAt, mountDirs, must, requireFuse, requireTool, startCapture, verify } from './harness.js';

/**
 * Runs xattr calls with python's os module (no package needed) and reports each result: values and
 * lists as hex, failures as the errno name. A call: [op, path, name?, hexValue?, flags?].
 */
const PY = `
import errno, json, os, sys
out = []
for c in json.loads(sys.argv[1]):
    op, path = c[0], c[1]
    try:
        if op == 'set':
            os.setxattr(path, c[2], bytes.fromhex(c[3]), c[4] if len(c) > 4 else 0, follow_symlinks=False)
            out.append({'ok': True})
        elif op == 'get':
            out.append({'ok': True, 'value': os.getxattr(path, c[2], follow_symlinks=False).hex()})
        elif op == 'remove':
            os.removexattr(path, c[2], follow_symlinks=False)
            out.append({'ok': True})
        elif op == 'list':
            out.append({'ok': True, 'names': sorted(os.listxattr(path, follow_symlinks=False))})
        elif op == 'all':
            names = sorted(n for n in os.listxattr(path, follow_symlinks=False) if n.startswith('user.'))
            out.append({'ok': True, 'xattrs': {n: os.getxattr(path, n, follow_symlinks=False).hex() for n in names}})
    except OSError as e:
        out.append({'ok': False, 'errno': errno.errorcode.get(e.errno, str(e.errno))})
print(json.dumps(out))
`;
type Call = [op: 'set' | 'get' | 'remove' | 'list' | 'all', path: string, name?: string, hex?: string, flags?: number];
interface Reply { ok: boolean; errno?: string; value?: string; names?: string[]; xattrs?: Record<string, string> }
const xattrs = (calls: Call[]): Reply[] => JSON.parse(must('python3', ['-c', PY, JSON.stringify(calls)])) as Reply[];
const hex = (s: string | Buffer): string => Buffer.from(s).toString('hex');
const XATTR_CREATE = 1;
const XATTR_REPLACE = 2;
/** Bytes that are not text: NUL, 0xff, a newline, a high byte sequence that is not UTF-8. */
const BINARY = Buffer.from([0x00, 0xff, 0x0a, 0x80, 0xc3, 0x28, 0x00, 0x01, 0xfe]);

test('xattrs set, overwritten, removed and renamed through the mount replay exactly; failed calls fail and are not recorded', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'python3')) return;
  const { root, rep, cleanup } = mountDirs('rill-mount-xattr-');
  const run = await startCapture(root, rep);
  try {
    const p = (s: string) => join(root, s);
    mkdirSync(p('d'));
    writeFileSync(p('f'), 'a file with attributes\n');
    writeFileSync(p('r'), 'renamed later\n');
    const did = xattrs([
      ['set', p('f'), 'user.a', hex('one')],
      ['set', p('f'), 'user.bin', BINARY.toString('hex')],
      ['set', p('f'), 'user.empty', ''],
      ['set', p('f'), 'user.tmp', hex('removed below')],
      ['set', p('d'), 'user.colour', hex('red')],
      ['set', p('d'), 'user.gone', hex('x')],
      ['set', p('r'), 'user.moved', hex('travels with the file')],
      ['set', p('f'), 'user.a', hex('two')], // overwrite
      ['set', p('d'), 'user.colour', hex('blue'), XATTR_REPLACE], // overwrite, only if there
      ['remove', p('f'), 'user.tmp'],
      ['remove', p('d'), 'user.gone'],
      // failures: as on the backing tree, and never recorded
      ['set', p('f'), 'user.a', hex('three'), XATTR_CREATE],
      ['set', p('f'), 'user.nope', hex('never'), XATTR_REPLACE],
      ['remove', p('f'), 'user.never-there'],
    ]);
    assert.deepEqual(did.slice(0, 11), Array(11).fill({ ok: true }));
    assert.deepEqual(did.slice(11), [
      { ok: false, errno: 'EEXIST' },
      { ok: false, errno: 'ENODATA' },
      { ok: false, errno: 'ENODATA' },
    ]);
    renameSync(p('r'), p('d/r2'));
    assert.deepEqual(xattrs([['set', p('d/r2'), 'user.after', hex('set after the rename')]]), [{ ok: true }]);

    // what applications see through the mount
    const seen = xattrs([
      ['list', p('f')],
      ['list', p('d')],
      ['list', p('d/r2')],
      ['get', p('f'), 'user.a'],
      ['get', p('f'), 'user.bin'],
      ['get', p('f'), 'user.empty'],
      ['get', p('f'), 'user.missing'],
      ['get', p('d'), 'user.gone'],
      ['get', p('d'), 'user.colour'],
      ['get', p('d/r2'), 'user.moved'],
    ]);
    assert.deepEqual(seen, [
      { ok: true, names: ['user.a', 'user.bin', 'user.empty'] },
      { ok: true, names: ['user.colour'] },
      { ok: true, names: ['user.after', 'user.moved'] },
      { ok: true, value: hex('two') },
      { ok: true, value: BINARY.toString('hex') },
      { ok: true, value: '' },
      { ok: false, errno: 'ENODATA' },
      { ok: false, errno: 'ENODATA' },
      { ok: true, value: hex('blue') },
      { ok: true, value: hex('travels with the file') },
    ]);

    const r = await run.stop('SIGTERM');
    assert.equal(r.capture, 143, r.stderr);
    assert.equal(r.replay, 0, r.replayErr);
    assert.deepEqual(fuseMountsAt(root), [], 'the mount is gone after SIGTERM');

    // the replica holds exactly these attributes (read on it, not through any mount)
    const expected: Record<string, Record<string, string>> = {
      f: { 'user.a': hex('two'), 'user.bin': BINARY.toString('hex'), 'user.empty': '' },
      d: { 'user.colour': hex('blue') },
      'd/r2': { 'user.after': hex('set after the rename'), 'user.moved': hex('travels with the file') },
    };
    const paths = Object.keys(expected);
    const onReplica = xattrs(paths.map((s): Call => ['all', join(rep, s)]));
    const onRoot = xattrs(paths.map((s): Call => ['all', join(root, s)]));
    for (const [i, s] of paths.entries()) {
      assert.deepEqual(onRoot[i], { ok: true, xattrs: expected[s] }, `ROOT ${s}`);
      assert.deepEqual(onReplica[i], { ok: true, xattrs: expected[s] }, `replica ${s}`);
    }
    assert.deepEqual(xattrs([['list', join(rep, 'r')]]), [{ ok: false, errno: 'ENOENT' }], 'the renamed file left its old name');
    let v = verify(root, rep);
    assert.equal(v.code, 0, v.out);

    // and verify would have noticed a difference in xattrs alone
    xattrs([['set', join(rep, 'd/r2'), 'user.after', hex('tampered')]]);
    v = verify(root, rep);
    assert.equal(v.code, 1, `verify must report a changed xattr value: ${v.out}`);
    xattrs([['set', join(rep, 'd/r2'), 'user.after', hex('set after the rename')], ['set', join(rep, 'f'), 'user.extra', '']]);
    v = verify(root, rep);
    assert.equal(v.code, 1, `verify must report an extra (empty) xattr: ${v.out}`);
  } finally {
    run.cleanup();
    cleanup();
  }
});

test('the stream holds one event per successful xattr call and none for failed ones', async (t) => {
  if (!requireFuse(t) || !requireTool(t, 'python3')) return;
  const { dir, cleanup } = tempDir('rill-mount-xattr-');
  const root = join(dir, 'root');
  const stream = join(dir, 'out.rill');
  mkdirSync(root);
  writeFileSync(join(root, 'f'), 'x');
  const run = await startCapture(root, stream);
  try {
    const f = join(root, 'f');
    const did = xattrs([
      ['set', f, 'user.k', hex('first'), XATTR_CREATE],
      ['set', f, 'user.k', hex('second'), XATTR_CREATE], // EEXIST
      ['set', f, 'user.missing', hex('no'), XATTR_REPLACE], // ENODATA
      ['remove', f, 'user.missing'], // ENODATA
      ['set', f, 'user.bin', BINARY.toString('hex')],
      ['set', f, 'user.empty', ''],
      ['remove', f, 'user.bin'],
    ]);
    assert.deepEqual(did.map((d) => d.errno ?? 'ok'), ['ok', 'EEXIST', 'ENODATA', 'ENODATA', 'ok', 'ok', 'ok']);
    const r = await run.stop('SIGTERM');
    assert.equal(r.capture, 143, r.stderr);
    const events = dumpEvents(stream).filter((e) => e.type === 'setxattr' || e.type === 'removexattr');
    // rill dump shows xattr values as base64
    assert.deepEqual(
      events.map((e) => [e.type, e.path, e.name, e.value]),
      [
        ['setxattr', 'f', 'user.k', Buffer.from('first').toString('base64')],
        ['setxattr', 'f', 'user.bin', BINARY.toString('base64')],
        ['setxattr', 'f', 'user.empty', ''],
        ['removexattr', 'f', 'user.bin', undefined],
      ],
      'the failed XATTR_CREATE / XATTR_REPLACE / removexattr calls are not in the stream',
    );
  } finally {
    run.cleanup();
    cleanup();
  }
});
