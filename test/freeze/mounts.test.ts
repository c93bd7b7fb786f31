// The mount table as freeze reads it: escaped mount points, device numbers as stat reports them,
// the deepest mount holding a path, and over-mounts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileSystemOf, isBelow, readMounts } from '../../src/freeze/mounts.js';
import { tempDir } from '../helpers/tree.js';

test('mountinfo lines: octal escapes undone, major:minor encoded as st_dev, fields after the dash', () => {
  const { dir, cleanup } = tempDir();
  try {
    const file = join(dir, 'mountinfo');
    writeFileSync(file, [
      '22 1 252:0 / / rw,relatime shared:1 - ext4 /dev/vda rw',
      '40 22 7:0 / /var/tmp/a\\040b rw,relatime - xfs /dev/loop0 rw,inode64',
      '41 22 259:65536 / /big rw master:2 - btrfs /dev/nvme0n1p1 rw',
      '',
    ].join('\n'));
    const m = readMounts(file);
    assert.deepEqual(m.map((x) => [x.mountPoint, x.fstype, x.source, x.dev]), [
      ['/', 'ext4', '/dev/vda', (252 << 8) | 0],
      ['/var/tmp/a b', 'xfs', '/dev/loop0', 7 << 8],
      ['/big', 'btrfs', '/dev/nvme0n1p1', (259 << 8) | ((65536 & ~0xff) << 12)],
    ]);
  } finally {
    cleanup();
  }
});

test('the root file system holds /etc, which is not its mount point; dev matches stat', () => {
  const fs = fileSystemOf('/etc');
  assert.equal(fs.isMountPoint, false);
  assert.equal(fs.dev, statSync('/etc').dev);
  assert.ok(isBelow('/etc', fs.mountPoint));
  assert.equal(fileSystemOf(fs.mountPoint).isMountPoint, true);
});

test('isBelow compares whole components', () => {
  assert.equal(isBelow('/srv/data', '/srv'), true);
  assert.equal(isBelow('/srv', '/srv'), true);
  assert.equal(isBelow('/srvx', '/srv'), false);
  assert.equal(isBelow('/anything', '/'), true);
});
