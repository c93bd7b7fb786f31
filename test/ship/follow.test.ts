// rill ship --from DIR: a journal followed live to two destinations at once; new streams written
// into the journal while it runs reach both; SIGTERM stops it cleanly (exit 143), and a restart
// resumes where each destination is.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/tree.js';
import { q, rill, sh } from '../helpers/cli.js';
import { background, makeSource, rillLine, until } from './helpers.js';

const same = (a: string, b: string): boolean => rill(['verify', a, b]).code === 0;

test('--from follows a journal live to two replicas; SIGTERM exits 143; a restart resumes', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'src');
    const journal = join(dir, 'journal');
    const state = join(dir, 'state');
    makeSource(src, 2);
    const into = (): void => {
      const r = sh(`rill capture --scan --state ${q(state)} ${q(src)} | rill ship -- ${rillLine(`ship --sink ${q(journal)}`)}`);
      assert.equal(r.code, 0, r.stderr);
    };
    into();
    const a = join(dir, 'a');
    const b = join(dir, 'b');
    const args = ['ship', '--from', journal, '--keep', '--to', rillLine(`replay --ack ${q(a)}`), '--to', rillLine(`replay --ack ${q(b)}`)];
    const first = background(args);
    await until(() => same(src, a) && same(src, b), 'both replicas to catch up');
    // A change arrives in the journal while ship follows it.
    writeFileSync(join(src, 'late'), 'written while ship follows\n');
    into();
    await until(() => same(src, a) && same(src, b), 'the change to reach both');
    first.child.kill('SIGTERM');
    assert.equal(await first.exit, 143, first.stderr());
    assert.match(first.stderr(), /stopping cleanly/);
    // Another change while nothing ships; a new ship takes both replicas from where they are.
    writeFileSync(join(src, 'later'), 'written while ship was stopped\n');
    into();
    const second = background(args);
    await until(() => same(src, a) && same(src, b), 'the restarted ship to deliver the rest');
    second.child.kill('SIGINT');
    assert.equal(await second.exit, 130, second.stderr());
  } finally {
    cleanup();
  }
});
