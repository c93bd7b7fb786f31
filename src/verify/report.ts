// How differences look: one text line each for people, one JSON object each for machines, and the
// summary. One handler per kind in each table, so a new kind fails to compile until both can show it.
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { bytesToPath, pathToBytes, showPath } from '../stream/path.js';
import { SPARSE_SHOWN, type Difference, type Extent, type Owner, type VerifySummary } from './difference.js';

type Table<R> = { [K in Difference['kind']]: (d: Extract<Difference, { kind: K }>) => R };

/** Permission bits as people write them: 0644, 04755. */
export function octal(perm: number): string {
  return `0${perm.toString(8).padStart(3, '0')}`;
}

/** A Linux dev_t as major:minor (glibc's encoding). */
export function majorMinor(dev: bigint): string {
  const major = ((dev >> 8n) & 0xfffn) | ((dev >> 32n) & 0xfffff000n);
  const minor = (dev & 0xffn) | ((dev >> 12n) & 0xffffff00n);
  return `${major}:${minor}`;
}

const owner = (o: Owner): string => `${o.uid}:${o.gid}`;
const extents = (list: Extent[], truncated: boolean): string =>
  list.length === 0 ? 'none' : list.map(([s, e]) => `[${s},${e})`).join(' ') + (truncated && list.length >= SPARSE_SHOWN ? ' ...' : '');

/** An xattr value for a text line: quoted when short UTF-8, else its length and a hash prefix. */
function value(v: Buffer): string {
  if (v.length <= 64 && isUtf8(v)) return JSON.stringify(v.toString('utf8'));
  return `(${v.length} bytes, sha256 ${createHash('sha256').update(v).digest('hex').slice(0, 12)})`;
}

function linkedTo(first: string | null): string {
  return first === null ? 'not linked to an earlier name' : `linked to ${showPath(first)}`;
}

const TEXT: Table<string> = {
  missing: (d) => `missing in B ${showPath(d.path)}`,
  extra: (d) => `only in B ${showPath(d.path)}`,
  type: (d) => `type ${showPath(d.path)}: ${d.a} != ${d.b}`,
  size: (d) => `size ${showPath(d.path)}: ${d.a} != ${d.b}`,
  mode: (d) => `mode ${showPath(d.path)}: ${octal(d.a)} != ${octal(d.b)}`,
  owner: (d) => `owner ${showPath(d.path)}: ${owner(d.a)} != ${owner(d.b)}`,
  mtime: (d) => `mtime ${showPath(d.path)}: ${d.a} != ${d.b}`,
  atime: (d) => `atime ${showPath(d.path)}: ${d.a} != ${d.b}`,
  rdev: (d) => `rdev ${showPath(d.path)}: ${majorMinor(d.a)} != ${majorMinor(d.b)}`,
  target: (d) => `target ${showPath(d.path)}: ${showPath(bytesToPath(d.a))} != ${showPath(bytesToPath(d.b))}`,
  xattr: (d) => {
    const name = showPath(bytesToPath(d.name));
    if (d.b === null) return `xattr ${showPath(d.path)}: ${name} missing in B`;
    if (d.a === null) return `xattr ${showPath(d.path)}: ${name} only in B`;
    return `xattr ${showPath(d.path)}: ${name} ${value(d.a)} != ${value(d.b)}`;
  },
  links: (d) => `links ${showPath(d.path)}: ${linkedTo(d.a)} in A, ${linkedTo(d.b)} in B`,
  sparse: (d) => `sparse ${showPath(d.path)}: data ${extents(d.a, d.truncated)} != ${extents(d.b, d.truncated)}`,
  content: (d) => `content ${showPath(d.path)}: differs at byte ${d.offset}`,
};

/** One line for people (no newline); why: the default output of `rill verify`. */
export function formatText(d: Difference): string {
  return (TEXT[d.kind] as (d: Difference) => string)(d);
}

/** A path for JSON: the string when it is UTF-8, else {"base64": its bytes}. */
export function jsonPath(p: string): string | { base64: string } {
  return p.isWellFormed() ? p : { base64: pathToBytes(p).toString('base64') };
}

/** Bytes for JSON: a string when they are UTF-8, else {"base64": ...}. */
export function jsonBytes(b: Buffer): string | { base64: string } {
  return isUtf8(b) ? b.toString('utf8') : { base64: b.toString('base64') };
}

const nullable = (b: Buffer | null) => (b === null ? null : jsonBytes(b));
const JSON_FIELDS: Table<Record<string, unknown>> = {
  missing: (d) => ({ type: d.type }),
  extra: (d) => ({ type: d.type }),
  type: (d) => ({ a: d.a, b: d.b }),
  size: (d) => ({ a: d.a, b: d.b }),
  mode: (d) => ({ a: octal(d.a), b: octal(d.b) }),
  owner: (d) => ({ a: d.a, b: d.b }),
  mtime: (d) => ({ a: d.a.toString(), b: d.b.toString() }),
  atime: (d) => ({ a: d.a.toString(), b: d.b.toString() }),
  rdev: (d) => ({ a: majorMinor(d.a), b: majorMinor(d.b) }),
  target: (d) => ({ a: jsonBytes(d.a), b: jsonBytes(d.b) }),
  xattr: (d) => ({ name: jsonBytes(d.name), a: nullable(d.a), b: nullable(d.b) }),
  links: (d) => ({ a: d.a === null ? null : jsonPath(d.a), b: d.b === null ? null : jsonPath(d.b) }),
  sparse: (d) => ({ a: d.a, b: d.b, truncated: d.truncated }),
  content: (d) => ({ offset: d.offset }),
};

/** One JSON object (one line, no newline); why: `--json` for scripts and jq. */
export function formatJson(d: Difference): string {
  const fields = (JSON_FIELDS[d.kind] as (d: Difference) => Record<string, unknown>)(d);
  return JSON.stringify({ kind: d.kind, path: jsonPath(d.path), ...fields });
}

const count = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;

/** The stderr summary: "identical: M entries, B bytes" or "N differences in M entries". */
export function summaryText(s: VerifySummary): string {
  const entries = count(s.entries, 'entry', 'entries');
  if (s.differences === 0) return `identical: ${entries}, ${count(s.bytes, 'byte', 'bytes')}`;
  return `${count(s.differences, 'difference', 'differences')} in ${entries}${s.stopped ? ' (stopped early)' : ''}`;
}

/** The final `--json` object. */
export function summaryJson(s: VerifySummary): string {
  return JSON.stringify({ kind: 'summary', identical: s.differences === 0, differences: s.differences, entries: s.entries, bytes: s.bytes });
}
