// Sizes and durations as people write them on a command line, for every command's flags.
import { RillError } from './errors.js';

/** "262144", "256K", "256KiB", "1M", "1G" → bytes (powers of 1024). */
export function parseSize(text: string, flag: string, min: number, max: number): number {
  const m = /^(\d+)\s*(?:([KMGT])(?:i?B)?|B)?$/i.exec(text.trim());
  const n = m ? Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] ?? ' ').toUpperCase()) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new RillError('usage', `${flag} ${JSON.stringify(text)} is not a size from ${min} to ${max} bytes`, { hint: `e.g. ${flag} 256K` });
  }
  return n;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, '': 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "30" or "30s", "500ms", "5m", "2h", "1d" → milliseconds (a bare number is seconds). */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/i.exec(text.trim());
  const ms = m ? Number(m[1]) * UNIT_MS[(m[2] ?? '').toLowerCase()]! : NaN;
  if (!Number.isFinite(ms) || ms <= 0) {
    throw new RillError('usage', `${flag} ${JSON.stringify(text)} is not a duration`, { hint: `e.g. ${flag} 30s, 5m or 1h (a bare number is seconds)` });
  }
  return Math.round(ms);
}
