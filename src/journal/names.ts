// Segment file names: DIR/NNNNNNNN-SSSSSSSSSSSSSSSSSSSS.rill, the segment number (8 digits) and the
// seq of its first event (20 digits; for a segment without events, the previous last seq + 1).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { ioError } from '../errors.js';

/** A segment file of a journal directory. */
export interface Segment {
  /** 1, 2, ...: the order of the segments. */
  number: number;
  firstSeq: number;
  name: string;
  path: string;
}

const NAME = /^(\d{8})-(\d{20})\.rill$/;

/** Why: one place spells the name (writer) and reads it back (everyone else). */
export function segmentName(number: number, firstSeq: number): string {
  return `${String(number).padStart(8, '0')}-${String(firstSeq).padStart(20, '0')}.rill`;
}

/** Why: the number and first seq of a segment file name; undefined for any other name. */
export function parseSegmentName(name: string): { number: number; firstSeq: number } | undefined {
  const m = NAME.exec(name);
  if (m === null) return undefined;
  const number = Number(m[1]);
  const firstSeq = Number(m[2]);
  if (!Number.isSafeInteger(firstSeq)) return undefined;
  return { number, firstSeq };
}

/** Why: the journal's segments in order (other files are ignored); [] when DIR does not exist. */
export async function listSegments(dir: string): Promise<Segment[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw ioError('cannot list the journal', dir, err);
  }
  const out: Segment[] = [];
  for (const name of names) {
    const p = parseSegmentName(name);
    if (p !== undefined) out.push({ ...p, name, path: join(dir, name) });
  }
  return out.sort((a, b) => a.number - b.number);
}
