// Records <-> JSON objects for `rill dump` / `rill undump`, driven by the same schema as the wire.
// Paths that are not UTF-8 become {"base64": ...}; nanosecond times are decimal strings (jq and
// JavaScript would round 64-bit numbers); write payloads are base64 with `data`, else length + sha256.
import { createHash } from 'node:crypto';
import type { FieldKind, StreamRecord } from './events.js';
import { pathToBytes } from './path.js';
import { recordFromWire, rulesFor, WireError } from './wire.js';

export interface JsonOptions {
  /** Include write payloads as base64 (otherwise their length and SHA-256). */
  data?: boolean;
}

/** The JSON object printed for a record (end records omit the checksum: it belongs to the framing). */
export function recordToJson(rec: StreamRecord, options: JsonOptions = {}): Record<string, unknown> {
  const src = rec as unknown as Record<string, unknown>;
  const out: Record<string, unknown> = { type: rec.type };
  for (const r of rulesFor(rec.type)!) {
    const v = src[r.key];
    if (v === undefined || (rec.type === 'end' && r.key === 'checksum')) continue;
    out[r.key] = rec.type === 'write' && r.key === 'data' && !options.data ? digest(v as Buffer) : valueToJson(r.kind, v);
  }
  if (rec.type === 'header') {
    const root: Record<string, unknown> = { path: valueToJson('raw', rec.root.path) };
    if (rec.root.dev !== undefined) root.dev = rec.root.dev;
    if (rec.root.ino !== undefined) root.ino = rec.root.ino;
    out.root = root;
  }
  return out;
}

function digest(b: Buffer): { length: number; sha256: string } {
  return { length: b.length, sha256: createHash('sha256').update(b).digest('hex') };
}

function valueToJson(kind: FieldKind, v: unknown): unknown {
  switch (kind) {
    case 'entry':
    case 'path':
    case 'raw':
      return (v as string).isWellFormed() ? v : { base64: pathToBytes(v as string).toString('base64') };
    case 'ns':
      return (v as bigint).toString();
    case 'bytes':
      return (v as Buffer).toString('base64');
    default:
      return v;
  }
}

/** Turns a parsed JSON object back into a record, validated exactly like a decoded wire record. */
export function recordFromJson(obj: unknown): StreamRecord {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw new WireError('a line must hold a JSON object');
  const src = obj as Record<string, unknown>;
  const type = src.type;
  if (typeof type !== 'string') throw new WireError(`the object has no text "type" field`);
  const rs = rulesFor(type);
  if (rs === undefined) throw new WireError(`unknown record type '${type}'`);
  const wire: Record<string, unknown> = { type };
  for (const r of rs) {
    const v = src[r.key];
    if (v !== undefined) wire[r.key] = valueFromJson(type, r.key, r.kind, v);
  }
  if (type === 'end') Object.assign(wire, { count: 0, checksum: 0 }); // the encoder computes both
  if (type === 'header') {
    const root = (src.root ?? {}) as Record<string, unknown>;
    wire.root = { ...root, path: valueFromJson(type, 'root.path', 'raw', root.path) };
  }
  const rec = recordFromWire(wire);
  if ('skipped' in rec) throw new WireError(`unknown record type '${type}'`);
  return rec;
}

function valueFromJson(type: string, key: string, kind: FieldKind, v: unknown): unknown {
  const base64 = (s: unknown): Buffer => {
    if (typeof s !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(s)) {
      throw new WireError(`${type}: field '${key}' must be base64 text`);
    }
    return Buffer.from(s, 'base64');
  };
  switch (kind) {
    case 'entry':
    case 'path':
    case 'raw':
      return v !== null && typeof v === 'object' && 'base64' in v ? base64((v as { base64: unknown }).base64) : v;
    case 'ns':
      if (typeof v === 'string' && /^-?\d{1,19}$/.test(v)) return BigInt(v);
      if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
      throw new WireError(`${type}: field '${key}' must be an integer (nanoseconds) as a decimal string`);
    case 'bytes':
      if (type === 'write' && key === 'data' && typeof v === 'object' && v !== null) {
        throw new WireError(`write: the payload was dumped without --data (only its length and hash): dump again with 'rill dump --data'`);
      }
      return base64(v);
    default:
      return v;
  }
}
