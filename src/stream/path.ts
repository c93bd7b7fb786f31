// Paths as bytes: lossless conversion between Linux file names (bytes) and the Path strings used in
// memory, plus the syntax rules every stream path obeys. No file-system access here.
import { isUtf8 } from 'node:buffer';

/** Decodes raw name bytes; bytes that are not valid UTF-8 become lone surrogates U+DC80..U+DCFF. */
export function bytesToPath(buf: Uint8Array): string {
  if (isUtf8(buf)) return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength).toString('utf8');
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  let out = '';
  let i = 0;
  while (i < b.length) {
    const n = validSequenceLength(b, i);
    if (n > 0) {
      out += b.toString('utf8', i, i + n);
      i += n;
    } else {
      out += String.fromCharCode(0xdc00 + b[i]!);
      i += 1;
    }
  }
  return out;
}

/** Length of the valid UTF-8 sequence starting at i, or 0 when the byte at i starts none. */
function validSequenceLength(b: Buffer, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** True when the path holds bytes that are not UTF-8 (and so travels as a CBOR byte string). */
export function hasRawBytes(p: string): boolean {
  return !p.isWellFormed();
}

/** The exact bytes of a Path string. */
export function pathToBytes(p: string): Buffer {
  if (p.isWellFormed()) return Buffer.from(p, 'utf8');
  const parts: Buffer[] = [];
  let run = '';
  for (let i = 0; i < p.length; i++) {
    const u = p.charCodeAt(i);
    const isHigh = u >= 0xd800 && u <= 0xdbff;
    const next = i + 1 < p.length ? p.charCodeAt(i + 1) : 0;
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      run += p[i]! + p[i + 1]!;
      i++;
    } else if (u >= 0xdc80 && u <= 0xdcff) {
      if (run) parts.push(Buffer.from(run, 'utf8'));
      run = '';
      parts.push(Buffer.of(u - 0xdc00));
    } else if (u >= 0xd800 && u <= 0xdfff) {
      throw new TypeError(`path holds a lone surrogate U+${u.toString(16).toUpperCase()} that stands for no byte`);
    } else {
      run += p[i];
    }
  }
  if (run) parts.push(Buffer.from(run, 'utf8'));
  return Buffer.concat(parts);
}

/** A path argument for node:fs: the string itself when it is UTF-8, else its bytes. */
export function fsPath(p: string): string | Buffer {
  return p.isWellFormed() ? p : pathToBytes(p);
}

/** How people see a path in messages: JSON-quoted, raw bytes as \\xNN. */
export function showPath(p: string): string {
  if (p.isWellFormed()) return JSON.stringify(p === '' ? '.' : p);
  let s = '';
  for (const ch of p) {
    const u = ch.charCodeAt(0);
    s += u >= 0xdc80 && u <= 0xdcff && ch.length === 1 ? `\\x${(u - 0xdc00).toString(16).padStart(2, '0')}` : ch;
  }
  return JSON.stringify(s).replaceAll('\\\\x', '\\x');
}

const BAD_COMPONENT = /(?:^|\/)(?:\.{1,2})?(?:\/|$)/;

/** Why a stream path is not acceptable, or undefined when it is. `allowRoot` admits '' (the root). */
export function pathProblem(p: string, allowRoot: boolean): string | undefined {
  if (p === '') return allowRoot ? undefined : 'empty path (the root) where an entry is required';
  if (p.charCodeAt(0) === 0x2f) return 'absolute path';
  if (p.includes('\0')) return 'path contains a NUL byte';
  if (!BAD_COMPONENT.test(p)) return undefined;
  for (const part of p.split('/')) {
    if (part === '') return 'empty path component';
    if (part === '.' || part === '..') return `'${part}' path component`;
  }
  return undefined;
}

/** Joins a parent path and a child name ('' is the root). */
export function joinPath(parent: string, name: string): string {
  return parent === '' ? name : `${parent}/${name}`;
}

/** The parent of a path ('' for top-level entries). */
export function parentPath(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? '' : p.slice(0, i);
}
