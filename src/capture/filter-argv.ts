// yargs gathers each option's values apart, losing which of --include and --exclude came first;
// rsync semantics need that order, so it is recovered from the raw command-line tokens.
import { RillError } from '../errors.js';
import type { FilterAction, FilterRule } from './filter.js';

const FLAGS: Record<string, FilterAction> = { '--include': 'include', '--exclude': 'exclude' };

/** Values yargs parsed for one option, as a list (absent, one string, or several). */
function asList(v: unknown): string[] {
  if (v === undefined) return [];
  return (Array.isArray(v) ? v : [v]).map(String);
}

/**
 * The --include/--exclude rules in command-line order (`--include X` and `--include=X` forms),
 * checked against what yargs parsed so a token misread here is refused rather than misapplied.
 */
export function filterRulesFromArgv(tokens: readonly string[], parsed: { include?: unknown; exclude?: unknown }): FilterRule[] {
  const expected = { include: asList(parsed.include), exclude: asList(parsed.exclude) };
  if (expected.include.length === 0 || expected.exclude.length === 0) {
    // One kind only: yargs kept their order, no tokens needed.
    return [
      ...expected.include.map((pattern) => ({ action: 'include' as const, pattern })),
      ...expected.exclude.map((pattern) => ({ action: 'exclude' as const, pattern })),
    ];
  }
  const rules: FilterRule[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t === '--') break;
    const eq = t.indexOf('=');
    const flag = eq < 0 ? t : t.slice(0, eq);
    const action = FLAGS[flag];
    if (action === undefined) continue;
    if (eq >= 0) rules.push({ action, pattern: t.slice(eq + 1) });
    else if (i + 1 < tokens.length) rules.push({ action, pattern: tokens[++i]! });
  }
  for (const action of ['include', 'exclude'] as const) {
    const found = rules.filter((r) => r.action === action).map((r) => r.pattern);
    if (found.length !== expected[action].length || found.some((p, k) => p !== expected[action][k])) {
      throw new RillError('usage', `cannot tell the order of the --include/--exclude options from the command line`, {
        hint: `write each one as --${action}=PATTERN`,
      });
    }
  }
  return rules;
}
