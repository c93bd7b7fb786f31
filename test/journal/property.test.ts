// Property: whatever the events (every kind, random fields, non-UTF-8 names, payloads of any size)
// and however small the segments and frames, a journal reads back exactly the streams written.
import { test } from 'node:test';
import fc from 'fast-check';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventsArb } from '../helpers/arbitrary.js';
import { assertStreams, header, readAll, writeJournal, type StreamSpec } from './helpers.js';

const streamArb: fc.Arbitrary<StreamSpec> = fc
  .tuple(eventsArb(25), fc.constantFrom('full', 'changes', 'plain'), fc.constantFrom('a', 'b'), fc.bigInt({ min: 0n, max: 1n << 62n }))
  .map(([events, kind, source, created]) => ({
    header: header({ source, created, ...(kind === 'full' ? { full: true } : kind === 'changes' ? { base: Math.max(0, (events[0]?.seq ?? 1) - 1) } : {}) }),
    events,
  }));

test('random streams through a journal with random segment and frame sizes read back equal (parts joined)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(streamArb, { minLength: 1, maxLength: 4 }), fc.integer({ min: 100, max: 20_000 }), fc.integer({ min: 16, max: 8_000 }), async (streams, segmentBytes, frameBytes) => {
      const dir = mkdtempSync(join(tmpdir(), 'rill-journal-prop-'));
      try {
        await writeJournal(dir, streams, { segmentBytes, frameBytes });
        assertStreams(await readAll(dir), streams);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }),
    { numRuns: 150 },
  );
});
