// The last event a journal holds: in its last segment (read as far as it is written), else in the
// end record of the latest earlier segment that has events.
import type { Segment } from './names.js';
import { listSegments } from './names.js';
import type { Position } from './position.js';
import { readSegmentEnd, readSegmentHeader, scanSegment } from './scan.js';

/** Why: where a journal ends (written, durable or not), e.g. for ship to know when it sent it all. */
export async function journalEnd(dir: string): Promise<Position | undefined> {
  const segs = await listSegments(dir);
  const last = segs.at(-1);
  if (last === undefined) return undefined;
  const scan = await scanSegment(last);
  if (scan.header !== undefined && scan.lastSeq >= 0) return { source: scan.header.source, seq: scan.lastSeq };
  return lastEventBefore(segs, segs.length - 1);
}

/** Why: the last event of the complete segments before segs[index] (they end with end records). */
export async function lastEventBefore(segs: Segment[], index: number): Promise<Position | undefined> {
  for (let i = index - 1; i >= 0; i--) {
    const end = await readSegmentEnd(segs[i]!);
    if (end?.lastSeq === undefined) continue;
    const header = await readSegmentHeader(segs[i]!);
    if (header !== undefined) return { source: header.source, seq: end.lastSeq };
  }
  return undefined;
}
