// Parts (rill-stream(5), Parts): the journal splits a long stream across segments, ending each part
// with end{more} and starting the next with a continuation header (part k+1, base = the previous
// part's last seq). This module holds that rule in both directions: the header of the next part,
// and joining parts back into the original stream, so every reader sees the streams that were written.
import { FORMAT_VERSION, MAGIC, type End, type Header, type StreamRecord } from './events.js';

/** Why: the journal writer's continuation header, made by the same rule joinParts checks. */
export function nextPartHeader(part: Header, end: End): Header {
  const h: Header = {
    type: 'header', magic: MAGIC, version: FORMAT_VERSION,
    source: part.source, node: part.node, kind: part.kind, root: part.root, created: part.created,
    part: (part.part ?? 0) + 1,
  };
  const base = end.lastSeq ?? part.base;
  if (base !== undefined) h.base = base;
  return h;
}

/** Why: one test of "next continues the part that ended with end" for joinParts and the journal. */
export function continues(part: Header, end: End, next: Header): boolean {
  return end.more === true && next.source === part.source && next.part === (part.part ?? 0) + 1 && next.base === (end.lastSeq ?? part.base);
}

/**
 * Why: consumers see original streams whatever the journal did. An end{more} immediately followed by
 * the header that continues it are both dropped; the end record of a joined stream carries the total
 * count and its last lastSeq (its checksum is the last part's: checksums belong to the framing). An
 * end{more} not followed by its continuation passes through, and so does a header claiming a part
 * that does not continue the stream before it. Batches are passed on as they come (a batch that ends
 * with end{more} without it, the end held until the next record shows whether it is continued), so
 * buffers keep the validity the source gives them: until the next batch is requested.
 */
export async function* joinParts(batches: AsyncIterable<StreamRecord[]>): AsyncGenerator<StreamRecord[]> {
  let part: Header | undefined; // header of the current part of the open stream
  let held: End | undefined; // an end{more}, waiting for the record after it
  let count = 0; // events of the stream in the parts before the current one
  let lastSeq: number | undefined; // last seq of those parts
  for await (const batch of batches) {
    let out = batch;
    let from = 0;
    if (held !== undefined) {
      const next = batch[0];
      if (next?.type === 'header' && part !== undefined && continues(part, held, next)) {
        count += held.count;
        lastSeq = held.lastSeq ?? lastSeq;
        part = next;
        from = 1;
      } else {
        yield [joined(held, count, lastSeq)];
        count = 0;
        lastSeq = undefined;
      }
      held = undefined;
    }
    let to = batch.length;
    for (let i = from; i < batch.length; i++) {
      const rec = batch[i]!;
      if (rec.type === 'header') {
        part = rec;
        count = 0;
        lastSeq = undefined;
      } else if (rec.type === 'end') {
        if (rec.more === true && i === batch.length - 1) {
          held = rec;
          to = i;
        } else if (count > 0 || lastSeq !== undefined) {
          out = out === batch ? batch.slice() : out;
          out[i] = joined(rec, count, lastSeq);
          count = 0;
          lastSeq = undefined;
        }
      }
    }
    if (from > 0 || to < batch.length) out = out.slice(from, to);
    if (out.length > 0) yield out;
  }
  if (held !== undefined) yield [joined(held, count, lastSeq)];
}

/** The end record of a stream whose earlier parts had `count` events through `lastSeq`. */
function joined(end: End, count: number, lastSeq: number | undefined): End {
  if (count === 0 && lastSeq === undefined) return end;
  const out: End = { ...end, count: end.count + count };
  const last = end.lastSeq ?? lastSeq;
  if (last !== undefined) out.lastSeq = last;
  return out;
}
