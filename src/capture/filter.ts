// --include/--exclude with rsync's rules: checked in command-line order, the first match wins, an
// unmatched path is included, and an excluded directory is not descended into (so nothing below it
// can be included again).
import { RillError } from '../errors.js';
import type { Path } from '../stream/events.js';
import { globSource } from './glob.js';

export type FilterAction = 'include' | 'exclude';

/** One --include or --exclude, in the order given. */
export interface FilterRule {
  action: FilterAction;
  pattern: string;
}

type Matcher = (path: Path, name: string, isDir: boolean) => boolean;

/**
 * rsync's pattern rules: a leading '/' anchors at the root; a pattern holding a '/' (a trailing one
 * aside) or '**' matches the whole relative path at any component boundary, any other the last
 * component; a trailing '/' matches directories only; 'dir/***' matches dir and everything below it.
 */
export function compilePattern(pattern: string): Matcher {
  if (pattern === '') throw new RillError('usage', 'an empty --include/--exclude pattern matches nothing; remove it');
  if (pattern.endsWith('/***')) {
    const base = pattern.slice(0, -4);
    if (base === '' || base === '/') return () => true;
    const self = compilePattern(`${base}/`);
    const below = compilePattern(`${base}/**`);
    return (path, name, isDir) => self(path, name, isDir) || below(path, name, isDir);
  }
  let p = pattern;
  const dirOnly = p.endsWith('/');
  if (dirOnly) p = p.replace(/\/+$/, '');
  const anchored = p.startsWith('/');
  if (anchored) p = p.replace(/^\/+/, '');
  if (p === '') return (_path, _name, isDir) => !dirOnly || isDir;
  const wholePath = anchored || p.includes('/') || p.includes('**');
  const source = globSource(p);
  const re = new RegExp(anchored || !wholePath ? `^(?:${source})$` : `^(?:.*/)?(?:${source})$`, 'su');
  if (wholePath) return (path, _name, isDir) => (!dirOnly || isDir) && re.test(path);
  return (_path, name, isDir) => (!dirOnly || isDir) && re.test(name);
}

/** The compiled rule list; `excludes` answers for one path relative to the root. */
export class PathFilter {
  private readonly rules: { action: FilterAction; match: Matcher }[];

  constructor(rules: readonly FilterRule[]) {
    this.rules = rules.map((r) => ({ action: r.action, match: compilePattern(r.pattern) }));
  }

  /** True when no rule was given (every path is included). */
  get empty(): boolean {
    return this.rules.length === 0;
  }

  /** The first matching rule's verdict; paths no rule matches are included. The root ('') always is. */
  excludes(path: Path, isDir: boolean): boolean {
    if (path === '') return false;
    const name = path.slice(path.lastIndexOf('/') + 1);
    for (const rule of this.rules) {
      if (rule.match(path, name, isDir)) return rule.action === 'exclude';
    }
    return false;
  }
}
