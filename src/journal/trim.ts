// Removing what every consumer holds: segments whose every event is at or below an acknowledged
// position (same source), oldest first, never the last segment (the one being written) nor one
// without an end record, and a full stream only as a whole, once acknowledged through its last
// event (a consumer that has not got all of it is resent the stream from its first part).
import { unlink } from 'node:fs/promises';
import { ioError } from '../errors.js';
import type { End, Header } from '../stream/events.js';
import { continues } from '../stream/join.js';
import { listSegments, type Segment } from './names.js';
import type { Position } from './position.js';
import { readSegmentEnd, readSegmentHeader } from './scan.js';
import { fsyncDir } from './sync.js';

/** Why: ship frees the journal behind the slowest acknowledgement. Returns the names removed. */
export async function trimJournal(dir: string, through: Position, options: { withLast?: boolean } = {}): Promise<{ removed: string[] }> {
  const segs = await listSegments(dir);
  const removable: Segment[] = [];
  // The last segment may be being written; `withLast` is for when no writer is left (ship's end).
  const keep = options.withLast === true ? 0 : 1;
  let i = 0;
  while (i < segs.length - keep) {
    const h = await readSegmentHeader(segs[i]!);
    if (h !== undefined && h.source !== through.source && (await sourceLater(segs, i + 1, through.source))) {
      // Another source's segment before the consumer's stream: the consumer is past it (a capture
      // restarted with a new source id), so it goes once it is complete.
      const one = await oneSegment(segs, i);
      if (one === undefined) break;
      removable.push(segs[i]!);
      i++;
      continue;
    }
    if (h === undefined || h.source !== through.source || segs[i]!.firstSeq > through.seq + 1) break;
    const parts = h.full === true && h.part === undefined ? await wholeStream(segs, i, h) : await oneSegment(segs, i);
    if (parts === undefined || parts.last >= segs.length - keep || parts.lastSeq > through.seq) break;
    for (let k = i; k <= parts.last; k++) removable.push(segs[k]!);
    i = parts.last + 1;
  }
  for (const seg of removable) {
    try {
      await unlink(seg.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw ioError('cannot remove journal segment', seg.path, err);
    }
  }
  if (removable.length > 0) fsyncDir(dir);
  return { removed: removable.map((s) => s.name) };
}

/** Some segment from index `from` on belongs to `source`. */
async function sourceLater(segs: Segment[], from: number, source: string): Promise<boolean> {
  for (let j = from; j < segs.length; j++) if ((await readSegmentHeader(segs[j]!))?.source === source) return true;
  return false;
}

/** Segment i alone: its last seq (-1 when it has no events); undefined when it has no end record. */
async function oneSegment(segs: Segment[], i: number): Promise<{ last: number; lastSeq: number } | undefined> {
  const end = await readSegmentEnd(segs[i]!);
  return end === undefined ? undefined : { last: i, lastSeq: end.lastSeq ?? -1 };
}

/** The index of a full stream's last part and its last seq; undefined while its last part has no end record. */
async function wholeStream(segs: Segment[], first: number, header: Header): Promise<{ last: number; lastSeq: number } | undefined> {
  let part = header;
  let j = first;
  let end: End | undefined = await readSegmentEnd(segs[j]!);
  let lastSeq = end?.lastSeq ?? -1;
  while (end?.more === true && j + 1 < segs.length) {
    const next = await readSegmentHeader(segs[j + 1]!);
    if (next === undefined || next.created !== header.created || !continues(part, end, next)) break;
    part = next;
    end = await readSegmentEnd(segs[++j]!);
    lastSeq = end?.lastSeq ?? lastSeq;
  }
  return end === undefined ? undefined : { last: j, lastSeq };
}
