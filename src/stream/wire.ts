// Records <-> the CBOR maps on the wire, driven by the schema tables in events.ts: one place converts
// paths to bytes when they are not UTF-8, narrows 64-bit integers, and validates what a decoder reads.
import {
  COMMON_FIELDS, END_FIELDS, EVENT_FIELDS, HEADER_FIELDS,
  type FieldKind, type FieldSpec, type StreamRecord,
} from './events.js';
import { bytesToPath, pathProblem, pathToBytes } from './path.js';

interface Rule { key: string; kind: FieldKind; optional: boolean }

function rules(fields: Record<string, FieldSpec>): Rule[] {
  return Object.entries(fields).map(([key, spec]) => ({
    key,
    kind: spec.replace('?', '') as FieldKind,
    optional: spec.endsWith('?'),
  }));
}

const COMMON = rules(COMMON_FIELDS);
const EVENT_RULES = new Map(Object.entries(EVENT_FIELDS).map(([t, f]) => [t, [...COMMON, ...rules(f as Record<string, FieldSpec>)]]));
const HEADER_RULES = rules(HEADER_FIELDS);
const END_RULES = rules(END_FIELDS);
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** A record the reader must skip: an unknown kind its writer marked optional. */
export interface SkippedRecord { type: string; skipped: true }

/** The rules of a record kind (used by the JSON-lines converter too), or undefined for an unknown kind. */
export function rulesFor(type: string): Rule[] | undefined {
  if (type === 'header') return HEADER_RULES;
  if (type === 'end') return END_RULES;
  return EVENT_RULES.get(type);
}

/** The map written on the wire for a record. */
export function recordToWire(rec: StreamRecord): Record<string, unknown> {
  const out: Record<string, unknown> = { type: rec.type };
  const src = rec as unknown as Record<string, unknown>;
  for (const r of rulesFor(rec.type)!) {
    const v = src[r.key];
    if (v === undefined) continue;
    out[r.key] = valueToWire(r.kind, v);
  }
  if (rec.type === 'header') out.root = rootToWire(rec.root);
  return out;
}

function valueToWire(kind: FieldKind, v: unknown): unknown {
  switch (kind) {
    case 'entry':
    case 'path':
    case 'raw':
      return (v as string).isWellFormed() ? v : pathToBytes(v as string);
    case 'ns':
      return (v as bigint) >= -MAX_SAFE && (v as bigint) <= MAX_SAFE ? Number(v) : v;
    default:
      return v;
  }
}

function rootToWire(root: { path: string; dev?: number; ino?: number }): Record<string, unknown> {
  const out: Record<string, unknown> = { path: valueToWire('raw', root.path) };
  if (root.dev !== undefined) out.dev = root.dev;
  if (root.ino !== undefined) out.ino = root.ino;
  return out;
}

/** Thrown for a record that does not follow the schema; the decoder adds the position. */
export class WireError extends Error {}

/**
 * Validates and converts a decoded wire map into a record. Unknown fields are dropped; an unknown
 * record kind is an error unless the writer marked it `optional: true`, in which case it is skipped.
 */
export function recordFromWire(obj: unknown): StreamRecord | SkippedRecord {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj) || Buffer.isBuffer(obj)) {
    throw new WireError(`a record must be a CBOR map, found ${describe(obj)}`);
  }
  const src = obj as Record<string, unknown>;
  const type = src.type;
  if (typeof type !== 'string') throw new WireError(`record has no text 'type' field`);
  const rs = rulesFor(type);
  if (rs === undefined) {
    if (src.optional === true) return { type, skipped: true };
    throw new WireError(
      `unknown record type '${type}' (not optional): written by a newer rill? upgrade rill to read this stream`,
    );
  }
  const out: Record<string, unknown> = { type };
  for (const r of rs) {
    const v = src[r.key];
    if (v === undefined) {
      if (r.optional) continue;
      throw new WireError(`${type} record lacks field '${r.key}'`);
    }
    out[r.key] = valueFromWire(type, r, v);
  }
  if (type === 'header') out.root = rootFromWire(src.root);
  return out as unknown as StreamRecord;
}

function valueFromWire(type: string, r: Rule, v: unknown): unknown {
  const bad = (what: string): never => {
    throw new WireError(`${type} record: field '${r.key}' must be ${what}, found ${describe(v)}`);
  };
  switch (r.kind) {
    case 'entry':
    case 'path': {
      const p = typeof v === 'string' ? v : v instanceof Uint8Array ? bytesToPath(v) : bad('a text or byte string');
      const problem = pathProblem(p, r.kind === 'path');
      if (problem !== undefined) throw new WireError(`${type} record: field '${r.key}' ${JSON.stringify(p)} is not a valid stream path (${problem})`);
      return p;
    }
    case 'raw':
      return typeof v === 'string' ? v : v instanceof Uint8Array ? bytesToPath(v) : bad('a text or byte string');
    case 'str':
      return typeof v === 'string' ? v : bad('a text string');
    case 'uint':
      if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
      if (typeof v === 'bigint' && v >= 0n && v <= MAX_SAFE) return Number(v);
      return bad('an unsigned integer below 2^53');
    case 'ns':
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
      if (typeof v === 'bigint' && v >= INT64_MIN && v <= INT64_MAX) return v;
      return bad('a 64-bit integer (nanoseconds)');
    case 'bytes':
      if (Buffer.isBuffer(v)) return v;
      return v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.byteLength) : bad('a byte string');
    case 'bool':
      return typeof v === 'boolean' ? v : bad('true or false');
  }
}

function rootFromWire(v: unknown): { path: string; dev?: number; ino?: number } {
  if (v === null || typeof v !== 'object') throw new WireError(`header record: field 'root' must be a map`);
  const m = v as Record<string, unknown>;
  const rule = (key: string, kind: FieldKind, optional: boolean): Rule => ({ key, kind, optional });
  const out: { path: string; dev?: number; ino?: number } = {
    path: valueFromWire('header', rule('root.path', 'raw', false), m.path) as string,
  };
  if (m.dev !== undefined) out.dev = valueFromWire('header', rule('root.dev', 'uint', true), m.dev) as number;
  if (m.ino !== undefined) out.ino = valueFromWire('header', rule('root.ino', 'uint', true), m.ino) as number;
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (v === undefined) return 'nothing';
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return `a byte string of ${v.length} bytes`;
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `the text ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${String(v)}`;
}
