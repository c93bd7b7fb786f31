// Holes: punch with fallocate so zeroed ranges stay sparse; where the file system cannot, write zeros
// (the range still reads back as zeros, which is what the event promises).
import { fstatSync } from 'node:fs';
import { sys } from '../sys/native.js';
import { writeAll } from './xdev.js';

const ZEROS = Buffer.alloc(1 << 20);

/** Makes [offset, offset+length) read as zeros without changing the file size. */
export function punchRange(fd: number, offset: number, length: number): void {
  if (length === 0) return;
  try {
    sys.punchHole(fd, offset, length);
    return;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EOPNOTSUPP') throw err;
  }
  const end = Math.min(offset + length, fstatSync(fd).size);
  for (let at = offset; at < end; at += ZEROS.length) writeAll(fd, ZEROS.subarray(0, Math.min(ZEROS.length, end - at)), at);
}
