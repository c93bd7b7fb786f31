// Benchmark corpora, generated deterministically: many small files, and a few large files.
import { mkdirSync, writeFileSync, existsSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { createHash } from 'node:crypto';

/** Pseudo-random but compressible-like bytes (not all zeros, so no file system can elide them). */
function fill(buf: Buffer, seed: number): void {
  let x = seed >>> 0 || 1;
  for (let i = 0; i < buf.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeUInt32LE(x >>> 0, i);
  }
}

/** `count` small files (0.5–16 KiB, median ~4 KiB) in 100-file directories two levels deep. */
export function smallFiles(root: string, count: number): void {
  if (existsSync(join(root, '.done'))) return;
  const buf = Buffer.alloc(16 * 1024);
  for (let i = 0; i < count; i++) {
    const dir = join(root, `d${Math.floor(i / 1000)}`, `e${Math.floor(i / 100) % 10}`);
    if (i % 100 === 0) mkdirSync(dir, { recursive: true });
    const h = createHash('md5').update(String(i)).digest();
    const size = 512 + (h.readUInt32LE(0) % (h[4]! < 200 ? 6 * 1024 : 16 * 1024));
    fill(buf, i + 1);
    writeFileSync(join(dir, `f${i}.dat`), buf.subarray(0, size));
  }
  writeFileSync(join(root, '.done'), '');
}

/** `totalMiB` MiB in files of 64–256 MiB. */
export function largeFiles(root: string, totalMiB: number): void {
  if (existsSync(join(root, '.done'))) return;
  mkdirSync(root, { recursive: true });
  const chunk = Buffer.alloc(1024 * 1024);
  let left = totalMiB;
  for (let i = 0; left > 0; i++) {
    const mib = Math.min(left, [256, 128, 64][i % 3]!);
    const fd = openSync(join(root, `big${i}.img`), 'w');
    for (let m = 0; m < mib; m++) {
      fill(chunk, i * 100000 + m + 1);
      writeSync(fd, chunk);
    }
    closeSync(fd);
    left -= mib;
  }
  writeFileSync(join(root, '.done'), '');
}
