// Trimming behind acknowledgements: segments whose every event is acknowledged go, oldest first; the
// last segment never; a full stream only whole and once acknowledged through its last event; a
// reader left behind by a trim fails with the seqs it lost.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tempDir } from '../helpers/tree.js';
import { RillError } from '../../src/errors.js';
import { listSegments, readJournal, trimJournal } from '../../src/journal/index.js';
import { events, header, readAll, SOURCE, streamsOf, writeJournal, type StreamSpec } from './helpers.js';

const FULL: StreamSpec = { header: header({ full: true }), events: events(1, 50) };
const CHANGES: StreamSpec = { header: header({ base: 50, created: 2000n }), events: events(51, 60) };
const LAST: StreamSpec = { header: header({ base: 110, created: 3000n }), events: events(111, 2) };
const OPTS = { segmentBytes: 30_000, frameBytes: 4096 };

test('a full stream is trimmed only whole, once acknowledged through its last event', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeJournal(dir, [FULL, CHANGES, LAST], OPTS);
    const before = await listSegments(dir);
    const fullParts = before.filter((s) => s.firstSeq <= 50);
    assert.ok(fullParts.length >= 3, 'the full stream has several parts');

    // Its first parts are acknowledged, not its last event: a consumer behind needs it from its start.
    assert.deepEqual(await trimJournal(dir, { source: SOURCE, seq: 45 }), { removed: [] });
    assert.deepEqual(await trimJournal(dir, { source: 'other', seq: 1000 }), { removed: [] }, 'another source trims nothing');

    const whole = await trimJournal(dir, { source: SOURCE, seq: 50 });
    assert.deepEqual(whole.removed, fullParts.map((s) => s.name));

    // Change-set parts go one by one as they are acknowledged.
    const more = await trimJournal(dir, { source: SOURCE, seq: 80 });
    const left = await listSegments(dir);
    assert.ok(more.removed.length > 0);
    assert.ok(left[0]!.firstSeq <= 81, 'the segment holding seq 81 stays');

    // Everything acknowledged: all but the last segment (the one a writer may still be writing).
    await trimJournal(dir, { source: SOURCE, seq: 10_000 });
    const last = await listSegments(dir);
    assert.equal(last.length, 1);
    assert.deepEqual(streamsOf(await readAll(dir))[0]!.events, LAST.events);
  } finally {
    cleanup();
  }
});

test('a reader behind the segments a trim removes fails with the seqs it lost', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeJournal(dir, [CHANGES, LAST], OPTS);
    const reader = readJournal(dir);
    const first = await reader.next();
    assert.equal(first.done, false);
    await trimJournal(dir, { source: SOURCE, seq: 110 });
    await assert.rejects(
      (async () => {
        for (let r = await reader.next(); !r.done; r = await reader.next());
      })(),
      (err: unknown) => {
        assert.ok(err instanceof RillError);
        assert.equal(err.kind, 'mismatch');
        assert.match(err.message, /was trimmed while this reader was behind: the events after seq \d+ of source .* \(seq \d+\.\.110\) are missing/);
        return true;
      },
    );
  } finally {
    cleanup();
  }
});
