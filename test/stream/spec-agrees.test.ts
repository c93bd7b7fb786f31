// man/rill-stream.5 documents exactly the vocabulary the code uses (events.ts is the source of truth).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { EVENT_FIELDS, HEADER_FIELDS, END_FIELDS, type FieldSpec } from '../../src/stream/events.js';

const page = readFileSync(new URL('../../man/rill-stream.5', import.meta.url), 'utf8');

test('every event kind is documented with its fields and kinds, in order', () => {
  for (const [type, fields] of Object.entries(EVENT_FIELDS)) {
    const line = page.split('\n').find((l) => l.startsWith(`${type}\t`));
    assert.ok(line, `man/rill-stream.5 has no table row for '${type}'`);
    const documented = line.split('\t')[1]!;
    const expected = Object.entries(fields as Record<string, FieldSpec>)
      .map(([k, spec]) => `${k}:${spec}`)
      .join(' ');
    assert.equal(documented, expected || '\\-', `row for '${type}'`);
  }
});

test('header and end fields are documented', () => {
  for (const [k, spec] of Object.entries({ ...HEADER_FIELDS, ...END_FIELDS })) {
    const key = spec.endsWith('?') ? `${k}?` : k;
    const kind = spec.replace('?', '');
    assert.ok(page.includes(`\n${key}\t${kind}\t`), `man/rill-stream.5 lacks the row "${key}\t${kind}"`);
  }
});
