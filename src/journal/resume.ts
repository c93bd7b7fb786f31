// Resuming a reader at a position (source, seq): which segment to start at, and which events of the
// streams of that source to pass on (rill-ship(1): a change set from the segment holding seq+1; a full
// stream from its first part, with, at or below seq, only the events that name entries).
import { RillError } from '../errors.js';
import type { Header, StreamRecord } from '../stream/events.js';
import type { Segment } from './names.js';
import { NAMESPACE_EVENTS, type Position } from './position.js';
import { readSegmentEnd, readSegmentHeader } from './scan.js';

/**
 * Why: the number of the segment to start reading at for a consumer that holds `after`. Streams of
 * other sources after it are read whole; a journal without that source is read from its start.
 * Events of the source missing from the journal (trimmed) are a 'mismatch' error naming them.
 */
export async function findStart(dir: string, segs: Segment[], after: Position): Promise<number> {
  const headers = new Map<number, Header | undefined>();
  const header = async (i: number): Promise<Header | undefined> => {
    if (!headers.has(i)) headers.set(i, await readSegmentHeader(segs[i]!));
    return headers.get(i);
  };
  let c = -1;
  let earliest = -1;
  for (let i = segs.length - 1; i >= 0; i--) {
    if ((await header(i))?.source !== after.source) continue;
    earliest = i;
    if (segs[i]!.firstSeq <= after.seq + 1) {
      c = i;
      break;
    }
  }
  if (earliest < 0) return segs[0]!.number;
  if (c < 0) {
    // Every segment of the source starts after seq+1: fine for a full stream, or a change set on top of what the consumer holds.
    const h = (await header(earliest))!;
    if (!(h.full === true && h.part === undefined) && h.base !== undefined && h.base > after.seq) {
      throw new RillError('mismatch', `journal ${dir} lacks events of source ${after.source} after seq ${after.seq}: its oldest segment of that source, ${segs[earliest]!.name}, continues from seq ${h.base} (seq ${after.seq + 1}..${h.base} were trimmed, or never written here)`, {
        hint: 'send a full stream of the source (rill capture --scan --full), or a consumer that holds more',
      });
    }
    return segs[earliest]!.number;
  }
  // A segment of the source holding nothing after seq: start after it.
  while (c < segs.length - 1 && (await header(c))?.source === after.source) {
    const end = await readSegmentEnd(segs[c]!);
    if (end === undefined || (end.lastSeq ?? -1) > after.seq) break;
    c++;
  }
  // A full stream is resent from its first part.
  const h = await header(c);
  const part = h?.part ?? 0;
  if (h !== undefined && h.source === after.source && part > 0) {
    const i0 = segs.findIndex((s) => s.number === segs[c]!.number - part);
    const h0 = i0 < 0 ? undefined : await header(i0);
    if (h0 !== undefined && h0.source === h.source && h0.created === h.created && h0.full === true) return segs[i0]!.number;
  }
  return segs[c]!.number;
}

/**
 * Why: of the streams of after.source, passes only events after after.seq (and, with fullPrefix, a
 * full stream's events that name entries at or below it); their end records count what passed.
 */
export async function* resumeFilter(batches: AsyncIterable<StreamRecord[]>, after: Position, fullPrefix: boolean): AsyncGenerator<StreamRecord[]> {
  let filtering = false;
  let full = false;
  let count = 0;
  let lastSeq: number | undefined;
  for await (const batch of batches) {
    const out: StreamRecord[] = [];
    for (const rec of batch) {
      if (rec.type === 'header') {
        filtering = rec.source === after.source;
        full = rec.full === true;
        count = 0;
        lastSeq = undefined;
        out.push(rec);
      } else if (rec.type === 'end') {
        if (!filtering) {
          out.push(rec);
          continue;
        }
        const end = { ...rec, count };
        if (lastSeq === undefined) delete end.lastSeq;
        else end.lastSeq = lastSeq;
        out.push(end);
      } else if (!filtering || rec.seq > after.seq || (fullPrefix && full && NAMESPACE_EVENTS.has(rec.type))) {
        if (filtering) {
          count++;
          lastSeq = rec.seq;
        }
        out.push(rec);
      }
    }
    if (out.length > 0) yield out;
  }
}
