// `rill ship --bwlimit RATE`: a token-bucket byte rate limit. The bucket holds up to `burst` bytes
// and refills at `bytesPerSecond`; taking more than it holds goes into debt and waits for the debt
// to be repaid, so any chunk size works and the average rate is exact over time. Waiters are served
// in the order they asked (each one's wait is computed from the debt in front of it).
import { Transform, type TransformCallback, type Writable } from 'node:stream';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { RillError } from '../errors.js';

const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };

/**
 * Parses a rate such as "10M", "512K", "1.5G", "2048" or "10MiB/s" to bytes per second (K, M, G, T
 * are powers of 1024); why: one reading of --bwlimit everywhere. 0, "" and undefined mean unlimited
 * (returned as 0). Bad text is a usage error naming the flag.
 */
export function parseRate(text: string | undefined, flag = '--bwlimit'): number {
  if (text === undefined || text.trim() === '') return 0;
  const m = /^\s*(\d+(?:\.\d+)?|\.\d+)\s*([kmgt]?)(?:i?b)?(?:\/s)?\s*$/i.exec(text);
  if (m === null) {
    throw new RillError('usage', `${flag} ${JSON.stringify(text)} is not a rate`, { hint: 'give bytes per second, e.g. 512K, 10M or 1.5G (powers of 1024), or 0 for no limit' });
  }
  const rate = Math.round(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(rate)) throw new RillError('usage', `${flag} ${JSON.stringify(text)} is too large a rate`);
  if (rate === 0 && Number(m[1]) !== 0) throw new RillError('usage', `${flag} ${JSON.stringify(text)} is below 1 byte a second`, { hint: 'use 0 for no limit' });
  return rate;
}

/** Milliseconds since an arbitrary origin; injectable for tests. */
export type Clock = () => number;

/** A token-bucket byte rate limit; why: --bwlimit paces every byte ship sends to a destination. */
export class RateLimit {
  /** Bucket size in bytes: what may be sent at once after a pause. */
  readonly burst: number;
  private readonly clock: Clock;
  private tokens: number;
  private last: number;

  /**
   * bytesPerSecond 0 (or Infinity) is unlimited. burst defaults to a tenth of a second's worth
   * (at least 4 KiB, at most 4 MiB).
   */
  constructor(
    readonly bytesPerSecond: number,
    options: { burst?: number; clock?: Clock } = {},
  ) {
    if (!(bytesPerSecond >= 0)) throw new RangeError(`rate ${bytesPerSecond} is not a number of bytes per second`);
    this.clock = options.clock ?? (() => performance.now());
    this.burst = options.burst ?? Math.min(4 * 1024 * 1024, Math.max(4096, Math.round(bytesPerSecond / 10)));
    this.tokens = this.burst;
    this.last = this.clock();
  }

  /** True when there is no limit (take() never waits). */
  get unlimited(): boolean {
    return this.bytesPerSecond === 0 || this.bytesPerSecond === Infinity;
  }

  /** Takes n bytes from the bucket now; returns how many milliseconds to wait before sending them. */
  reserve(n: number): number {
    if (this.unlimited) return 0;
    const now = this.clock();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.bytesPerSecond) / 1000);
    this.last = now;
    this.tokens -= n;
    return this.tokens >= 0 ? 0 : (-this.tokens * 1000) / this.bytesPerSecond;
  }

  /** Resolves when n bytes may be sent; why: the one call a sender awaits before each write. */
  async take(n: number): Promise<void> {
    const ms = this.reserve(n);
    if (ms > 0) await sleep(ms);
  }
}

/** Largest piece a paced chunk is cut into, so a big chunk goes out smoothly, not in one burst. */
function pieceBytes(limit: RateLimit): number {
  return Math.max(1024, Math.min(limit.burst, 256 * 1024));
}

/**
 * Writes chunk to out at the limit's pace, honouring backpressure (waits for 'drain'); why: ship's
 * sender loop awaits this instead of out.write. Rejects if out errors or closes while waiting.
 */
export async function writePaced(out: Writable, chunk: Buffer, limit: RateLimit): Promise<void> {
  const step = limit.unlimited ? chunk.length : pieceBytes(limit);
  for (let at = 0; at < chunk.length; at += step) {
    const piece = chunk.subarray(at, at + step);
    await limit.take(piece.length);
    if (out.destroyed || out.writableEnded) throw new Error('the destination closed while output was being paced');
    if (!out.write(piece)) await once(out, 'drain');
  }
}

/** A byte Transform that passes chunks through at the limit's pace; why: `src.pipe(new PacedStream(limit)).pipe(dest)`. */
export class PacedStream extends Transform {
  private readonly step: number;

  constructor(private readonly limit: RateLimit) {
    super();
    this.step = pieceBytes(limit);
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.limit.unlimited) return cb(null, chunk);
    this.pace(chunk).then(() => cb(), cb);
  }

  private async pace(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length; at += this.step) {
      const piece = chunk.subarray(at, at + this.step);
      await this.limit.take(piece.length);
      if (this.destroyed) return;
      this.push(piece);
    }
  }
}
