// rsync's wildcard syntax (wildmatch) as a RegExp: '*' stays within a path component, '**' crosses
// '/', '?' is one character but not '/', '[...]' a class ('!' or '^' negates), '\' escapes.
import { RillError } from '../errors.js';

const POSIX_CLASSES: Record<string, string> = {
  alnum: 'a-zA-Z0-9',
  alpha: 'a-zA-Z',
  blank: ' \\t',
  cntrl: '\\x00-\\x1f\\x7f',
  digit: '0-9',
  graph: '\\x21-\\x7e',
  lower: 'a-z',
  print: '\\x20-\\x7e',
  punct: '!-\\/:-@\\[-`{-~',
  space: ' \\t\\n\\r\\f\\v',
  upper: 'A-Z',
  xdigit: '0-9A-Fa-f',
};

const SYNTAX = new Set('^$\\.*+?()[]{}|/');

/** Regular-expression source (for the 'su' flags) matching exactly what the rsync glob matches. */
export function globSource(glob: string): string {
  let out = '';
  let i = 0;
  while (i < glob.length) {
    const c = glob[i]!;
    if (c === '\\' && i + 1 < glob.length) {
      out += literal(String.fromCodePoint(glob.codePointAt(i + 1)!));
      i += glob.codePointAt(i + 1)! > 0xffff ? 3 : 2;
    } else if (c === '*') {
      let n = 0;
      while (glob[i] === '*') { n++; i++; }
      out += n >= 2 ? '.*' : '[^/]*';
    } else if (c === '?') {
      out += '[^/]';
      i++;
    } else if (c === '[') {
      const cls = bracket(glob, i);
      if (cls === undefined) {
        out += '\\[';
        i++;
      } else {
        out += cls.source;
        i = cls.end;
      }
    } else {
      out += literal(c);
      i++;
    }
  }
  return out;
}

function literal(c: string): string {
  return SYNTAX.has(c) ? `\\${c}` : c;
}

/** A character as a member of a class (u-flag syntax allows escaping only these). */
function classLiteral(c: string): string {
  return '[]^\\-'.includes(c) ? `\\${c}` : c;
}

/** Parses a bracket expression starting at `start` ('['); undefined when it never closes. */
function bracket(glob: string, start: number): { source: string; end: number } | undefined {
  let j = start + 1;
  let negate = false;
  if (glob[j] === '!' || glob[j] === '^') {
    negate = true;
    j++;
  }
  let body = '';
  let first = true;
  while (j < glob.length) {
    const c = glob[j]!;
    if (c === ']' && !first) return { source: negate ? `[^/${body}]` : `[${body}]`, end: j + 1 };
    first = false;
    if (c === '[' && glob[j + 1] === ':') {
      const close = glob.indexOf(':]', j + 2);
      if (close < 0) return undefined;
      const name = glob.slice(j + 2, close);
      const members = POSIX_CLASSES[name];
      if (members === undefined) throw new RillError('usage', `unknown character class [:${name}:] in pattern ${JSON.stringify(glob)}`);
      body += members;
      j = close + 2;
    } else if (c === '\\' && j + 1 < glob.length) {
      body += classLiteral(glob[j + 1]!);
      j += 2;
    } else {
      body += c === '-' ? c : classLiteral(c);
      j++;
    }
  }
  return undefined;
}
