// A seeded pseudo-random byte source (xorshift32), so tests that need incompressible data repeat exactly.

/** Bytes from a generator seeded with `seed`; each call continues the sequence. */
export function prng(seed: number): (n: number) => Buffer {
  let x = seed >>> 0 || 1;
  return (n) => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b[i] = x & 0xff;
    }
    return b;
  };
}
