// Last writer wins across sources: the runs of a file (oldest first) and what memory holds for it
// (newest). Sources are taken newest first; each contributes the parts of its extents that no newer
// source covers. The result is the file's bytes as disjoint pieces in offset order.
import type { Run, RunExtent } from './spill.js';

/** A range of a file and where its bytes are: a buffer in memory, or a position in a run. */
export interface Piece {
  offset: number;
  length: number;
  buf?: Buffer;
  run?: Run;
  /** Offset in buf, or position in run. */
  pos: number;
}

/** One source's extents, in offset order, disjoint. */
export type SourceExtents = { start: number; end: number; buf?: Buffer; run?: Run; pos: number }[];

/** The extents of a run section as a source. */
export function runSource(run: Run, extents: RunExtent[]): SourceExtents {
  return extents.map((e) => ({ start: e.start, end: e.end, run, pos: e.pos }));
}

/** Resolves sources given newest first into disjoint pieces in offset order. */
export function resolve(sources: SourceExtents[]): Piece[] {
  let cs: number[] = [];
  let ce: number[] = [];
  const out: Piece[] = [];
  for (const src of sources) {
    let k = 0;
    for (const e of src) {
      while (k < cs.length && ce[k]! <= e.start) k++;
      let at = e.start;
      for (let j = k; j < cs.length && cs[j]! < e.end; j++) {
        if (cs[j]! > at) out.push(piece(e, at, cs[j]!));
        at = Math.max(at, ce[j]!);
      }
      if (at < e.end) out.push(piece(e, at, e.end));
    }
    [cs, ce] = union(cs, ce, src);
  }
  return out.sort((a, b) => a.offset - b.offset);
}

function piece(e: SourceExtents[number], from: number, to: number): Piece {
  const p: Piece = { offset: from, length: to - from, pos: e.pos + (from - e.start) };
  if (e.buf !== undefined) p.buf = e.buf;
  if (e.run !== undefined) p.run = e.run;
  return p;
}

/** The union of covered ranges and a source's ranges, merged. */
function union(cs: number[], ce: number[], src: SourceExtents): [number[], number[]] {
  const s: number[] = [];
  const e: number[] = [];
  let i = 0;
  let j = 0;
  while (i < cs.length || j < src.length) {
    const takeCovered = j >= src.length || (i < cs.length && cs[i]! <= src[j]!.start);
    const a = takeCovered ? cs[i]! : src[j]!.start;
    const b = takeCovered ? ce[i++]! : src[j++]!.end;
    if (s.length > 0 && a <= e[e.length - 1]!) e[e.length - 1] = Math.max(e[e.length - 1]!, b);
    else s.push(a), e.push(b);
  }
  return [s, e];
}

/**
 * The bytes of pieces that follow one another without a gap, as one new buffer: never a view of the
 * store's memory, whose slabs are reused once their extents are spilled or dropped (store.ts).
 */
export function readPieces(pieces: Piece[]): Buffer {
  let total = 0;
  for (const p of pieces) total += p.length;
  const out = Buffer.allocUnsafe(total);
  let at = 0;
  for (const p of pieces) {
    if (p.buf !== undefined) p.buf.copy(out, at, p.pos, p.pos + p.length);
    else p.run!.read(out, at, p.length, p.pos);
    at += p.length;
  }
  return out;
}
