// fast-check arbitraries for stream records, generated from the schema in events.ts so every event
// kind (present and future) is covered without listing it here.
import fc from 'fast-check';
import { EVENT_FIELDS, EVENT_TYPES, type Event, type EventType, type FieldKind, type FieldSpec } from '../../src/stream/events.js';
import { bytesToPath } from '../../src/stream/path.js';

const nameBytes = fc
  .uint8Array({ minLength: 1, maxLength: 10 })
  .filter((b) => !b.includes(0x2f) && !b.includes(0) && !(b.length === 1 && b[0] === 0x2e) && !(b.length === 2 && b[0] === 0x2e && b[1] === 0x2e));

/** A file name: mostly readable ASCII, sometimes arbitrary bytes (non-UTF-8, newlines...). */
export const nameArb: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9_.-]{1,8}$/).filter((s) => s !== '.' && s !== '..') },
  { weight: 1, arbitrary: nameBytes.map((b) => bytesToPath(b)) },
);

export const entryArb: fc.Arbitrary<string> = fc.array(nameArb, { minLength: 1, maxLength: 4 }).map((a) => a.join('/'));
const pathArb = fc.oneof({ weight: 6, arbitrary: entryArb }, { weight: 1, arbitrary: fc.constant('') });
const rawArb = fc.oneof(fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 20 }).map((b) => bytesToPath(b)));

const KIND_ARB: Record<FieldKind, fc.Arbitrary<unknown>> = {
  entry: entryArb,
  path: pathArb,
  raw: rawArb,
  str: fc.string({ maxLength: 30 }),
  uint: fc.oneof(fc.nat({ max: 1 << 20 }), fc.maxSafeNat()),
  ns: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  bytes: fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b)),
  bool: fc.boolean(),
};

function fieldsArb(fields: Record<string, FieldSpec>): fc.Arbitrary<Record<string, unknown>> {
  const req: Record<string, fc.Arbitrary<unknown>> = {};
  const optional: string[] = [];
  for (const [key, spec] of Object.entries(fields)) {
    req[key] = KIND_ARB[spec.replace('?', '') as FieldKind];
    if (spec.endsWith('?')) optional.push(key);
  }
  return fc.record(req, { requiredKeys: Object.keys(req).filter((k) => !optional.includes(k)) });
}

/** An event of the given kind with seq 0 (the caller numbers them). */
export function eventOfType(type: EventType): fc.Arbitrary<Event> {
  return fc
    .tuple(fieldsArb(EVENT_FIELDS[type] as Record<string, FieldSpec>), fc.option(KIND_ARB.ns, { nil: undefined }))
    .map(([f, time]) => {
      const e = { type, seq: 0, ...f } as Record<string, unknown>;
      if (time !== undefined) e.time = time;
      return e as unknown as Event;
    });
}

export const eventArb: fc.Arbitrary<Event> = fc.constantFrom(...EVENT_TYPES).chain(eventOfType);

/** Events numbered with strictly increasing (gapped) seq values. */
export const eventsArb = (maxLength = 60): fc.Arbitrary<Event[]> =>
  fc.tuple(fc.array(eventArb, { maxLength }), fc.array(fc.integer({ min: 1, max: 1000 }), { minLength: maxLength, maxLength }), fc.nat({ max: 1e9 })).map(
    ([events, gaps, start]) => {
      let seq = start;
      return events.map((e, i) => ({ ...e, seq: (seq += gaps[i]!) }));
    },
  );
