// Looking into segment files without reading them as a whole where that is not needed: a full scan
// (recovery and the last segment: every frame checked, a torn tail measured), the header (the first
// frame: the writer puts a header in a frame of its own), and the end record (frame heads walked,
// the last frame decoded: the writer puts an end record in a frame of its own too).
import { open, type FileHandle } from 'node:fs/promises';
import { RillError, ioError } from '../errors.js';
import { cborDecoder } from '../stream/cbor.js';
import { decompressPayload } from '../stream/compress.js';
import type { End, Header, StreamRecord } from '../stream/events.js';
import { SIGNATURE, frameCrc, readHead } from '../stream/frame.js';
import type { FramerState } from '../stream/framer.js';
import { recordFromWire } from '../stream/wire.js';
import type { Segment } from './names.js';
import { SegmentReader } from './segment-reader.js';

/** What a full scan of a segment found. */
export interface SegmentScan {
  /** undefined when the segment does not hold a whole first frame. */
  header: Header | undefined;
  /** The end record, when the segment is complete. */
  end: End | undefined;
  /** Events read, and the seq of the last (-1: none). */
  count: number;
  lastSeq: number;
  /** Bytes up to the end of the last whole, valid frame (or the signature). */
  good: number;
  size: number;
  /** Where the open stream stands (no end record), to end it. */
  state: FramerState | undefined;
  /** Why the bytes after `good` are not frames (a frame cut short, or damaged at the very end). */
  torn: string | undefined;
}

/** The longest frame head (array, codec, crc, payload heads). */
const MAX_HEAD = 28;

async function openSegment(seg: Segment): Promise<FileHandle> {
  try {
    return await open(seg.path, 'r');
  } catch (err) {
    throw ioError('cannot open journal segment', seg.path, err);
  }
}

/**
 * Why: recovery and journalEnd need every frame of the last segment checked and its torn tail
 * measured. Damage that is not at the end of the file (whole frames follow it) is an error.
 */
export async function scanSegment(seg: Segment): Promise<SegmentScan> {
  const fh = await openSegment(seg);
  try {
    const size = (await fh.stat()).size;
    const reader = new SegmentReader(fh.fd, seg.path);
    const out: SegmentScan = { header: undefined, end: undefined, count: 0, lastSeq: -1, good: 0, size, state: undefined, torn: undefined };
    for (;;) {
      let step;
      try {
        step = await reader.next();
      } catch (err) {
        if (!(err instanceof RillError) || out.end !== undefined) throw err;
        out.good = reader.offset;
        if (!(await damagedTail(fh, reader.offset, size))) {
          throw new RillError('stream', `journal segment ${seg.name} is damaged at byte ${reader.offset}, before its end (${err.message})`, {
            path: seg.path,
            hint: 'this is not a torn tail from a killed writer: keep a copy of the file, then truncate it at that byte to recover what comes before',
            cause: err,
          });
        }
        out.torn = err.message;
        break;
      }
      out.good = reader.offset;
      if ('eof' in step) {
        if (step.partial > 0) out.torn = `a frame cut short (${step.partial} bytes of it present)`;
        break;
      }
      for (const rec of step.records) {
        if (rec.type === 'header') out.header = rec;
        else if (rec.type === 'end') out.end = rec;
        else {
          out.count++;
          out.lastSeq = rec.seq;
        }
      }
    }
    if (out.end === undefined) out.state = reader.parser.openStream;
    if (out.end !== undefined && out.good < size) {
      throw new RillError('stream', `journal segment ${seg.name} holds ${size - out.good} bytes after its end record`, { path: seg.path, hint: 'a segment holds one stream: keep a copy of the file, then truncate it at byte ' + out.good });
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** True when the bad frame at `at` is the last thing in the file: its length reaches the end, or all that follows is zeros. */
async function damagedTail(fh: FileHandle, at: number, size: number): Promise<boolean> {
  const head = Buffer.alloc(MAX_HEAD);
  const { bytesRead } = await fh.read(head, 0, MAX_HEAD, at);
  const extent = frameExtent(head.subarray(0, bytesRead));
  if (extent !== undefined) return at + extent >= size;
  const rest = Buffer.alloc(Math.min(size - at, 64 * 1024 * 1024));
  await fh.read(rest, 0, rest.length, at);
  return rest.length === size - at && rest.every((b) => b === 0);
}

/** Bytes of the frame whose head starts buf (head and payload), or undefined when it is no frame head. */
function frameExtent(buf: Buffer): number | undefined {
  try {
    let pos = 0;
    const want = [4, 0, 0, 2];
    let value = 0;
    for (const major of want) {
      const h = readHead(buf, pos);
      if (h === undefined || h.major !== major || h.value < 0) return undefined;
      pos += h.length;
      value = h.value;
    }
    return pos + value;
  } catch {
    return undefined;
  }
}

/** Why: a segment's source and part without reading it: its first frame; undefined when not yet written. */
export async function readSegmentHeader(seg: Segment): Promise<Header | undefined> {
  const fh = await openSegment(seg);
  try {
    const reader = new SegmentReader(fh.fd, seg.path, 64 * 1024);
    const step = await reader.next();
    if ('eof' in step) return undefined;
    return step.records[0] as Header;
  } finally {
    await fh.close();
  }
}

/**
 * Why: a complete segment's last seq without reading its events: walks the frame heads and decodes
 * the last frame. undefined when the segment has no whole last frame holding an end record (it is
 * being written, or was cut).
 */
export async function readSegmentEnd(seg: Segment): Promise<End | undefined> {
  const fh = await openSegment(seg);
  try {
    const size = (await fh.stat()).size;
    const head = Buffer.alloc(MAX_HEAD);
    let pos = SIGNATURE.length;
    let last: { at: number; extent: number } | undefined;
    while (pos < size) {
      const { bytesRead } = await fh.read(head, 0, MAX_HEAD, pos);
      const extent = frameExtent(head.subarray(0, bytesRead));
      if (extent === undefined || pos + extent > size) return undefined;
      last = { at: pos, extent };
      pos += extent;
    }
    if (last === undefined) return undefined;
    const frame = Buffer.alloc(last.extent);
    await fh.read(frame, 0, last.extent, last.at);
    const rec = lastRecord(frame);
    return rec?.type === 'end' ? rec : undefined;
  } finally {
    await fh.close();
  }
}

/** The last record of one whole frame (CRC checked), or undefined when it does not check out. */
function lastRecord(frame: Buffer): StreamRecord | undefined {
  let pos = 0;
  const heads = [];
  for (let i = 0; i < 4; i++) {
    const h = readHead(frame, pos)!;
    heads.push(h.value);
    pos += h.length;
  }
  const [, codec, crc] = heads as [number, number, number, number];
  const stored = frame.subarray(pos);
  if (frameCrc(stored) !== crc) return undefined;
  let last: unknown;
  try {
    cborDecoder.decodeMultiple(decompressPayload(codec, stored), (item: unknown) => {
      last = item;
    });
    const rec = recordFromWire(last);
    return 'skipped' in rec ? undefined : rec;
  } catch {
    return undefined;
  }
}
