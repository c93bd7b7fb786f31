// Trees that cannot be read are errors (RillError 'io' naming the tree), never differences.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { makeTree, tempDir } from '../helpers/tree.js';
import { RillError } from '../../src/errors.js';
import { verifyTrees } from '../../src/verify/verify.js';

const none = (): void => assert.fail('no difference expected before the error');

test('a missing A or B is an io error naming it', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/b`, [{ type: 'file', path: 'f', content: 'x' }]);
  await assert.rejects(verifyTrees(`${dir}/nope`, `${dir}/b`, {}, none), (err: unknown) => {
    assert.ok(err instanceof RillError);
    assert.equal(err.kind, 'io');
    assert.equal(err.describe(), `cannot read A "${dir}/nope": no such file or directory (ENOENT)`);
    return true;
  });
  await assert.rejects(verifyTrees(`${dir}/b`, `${dir}/gone`, {}, none), /cannot read B ".*\/gone": no such file/);
});

test('a root path through a non-directory is an error naming it, bytes shown as \\xNN', async (t) => {
  const { dir, cleanup } = tempDir();
  t.after(cleanup);
  makeTree(`${dir}/a`, [{ type: 'file', path: 'f\udce9', content: 'x' }]);
  makeTree(`${dir}/b`, [{ type: 'file', path: 'f\udce9', content: 'x' }]);
  const err = await verifyTrees(`${dir}/a/f\udce9`, `${dir}/b/f\udce9/x`, {}, none).then(() => undefined, (e: unknown) => e);
  assert.ok(err instanceof RillError);
  assert.equal(err.describe(), `cannot stat B "${dir}/b/f\\xe9/x": not a directory (ENOTDIR)`);
});
