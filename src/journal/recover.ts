// The torn tail: a writer killed mid-stream leaves its last segment without an end record, perhaps
// ending inside a frame. On open, the segment is cut back to its last whole frame and its stream is
// closed with end{more} (count, checksum and lastSeq of what is there), then fsynced; what was cut is
// reported. A segment without even a whole header frame holds nothing and is removed.
import { closeSync, fsyncSync, ftruncateSync, openSync, unlinkSync } from 'node:fs';
import { ioError } from '../errors.js';
import type { End, Header } from '../stream/events.js';
import { StreamFramer } from '../stream/framer.js';
import type { Segment } from './names.js';
import { scanSegment } from './scan.js';
import { fsyncDir, writeAllAt } from './sync.js';

/** The last segment as recovery left it. */
export interface RecoveredTail {
  /** undefined: the segment held no whole header and was removed. */
  header: Header | undefined;
  end: End | undefined;
  /** seq of its last event, -1 when none. */
  lastSeq: number;
  /** Its size after recovery. */
  size: number;
}

/** Why: makes the last segment a complete stream again after its writer died, saying what was cut. */
export async function recoverTail(dir: string, seg: Segment, onWarning: (message: string) => void): Promise<RecoveredTail> {
  const scan = await scanSegment(seg);
  if (scan.end !== undefined) return { header: scan.header, end: scan.end, lastSeq: scan.lastSeq, size: scan.size };
  if (scan.header === undefined || scan.state === undefined) {
    try {
      unlinkSync(seg.path);
    } catch (err) {
      throw ioError('cannot remove the empty journal segment', seg.path, err);
    }
    fsyncDir(dir);
    onWarning(`journal segment ${seg.name} held ${scan.size} bytes, not even a whole stream header (its writer was killed as it created it): removed it`);
    return { header: undefined, end: undefined, lastSeq: -1, size: 0 };
  }
  let fd: number;
  try {
    fd = openSync(seg.path, 'r+');
  } catch (err) {
    throw ioError('cannot open journal segment', seg.path, err);
  }
  let end: End;
  let size = scan.good;
  try {
    if (scan.good < scan.size) ftruncateSync(fd, scan.good);
    const framer = new StreamFramer((pieces) => {
      size = writeAllAt(fd, pieces, size, seg.path);
    });
    framer.resume(scan.state);
    end = framer.end(true);
    fsyncSync(fd);
  } catch (err) {
    throw ioError('cannot recover journal segment', seg.path, err);
  } finally {
    closeSync(fd);
  }
  const events = `${scan.count} events${scan.lastSeq >= 0 ? `, through seq ${scan.lastSeq}` : ''}`;
  const cut = scan.size - scan.good;
  onWarning(
    cut > 0
      ? `journal segment ${seg.name} ended in a torn frame (its writer was killed, or a write failed, while writing it): cut ${cut} bytes at byte ${scan.good} (${scan.torn}) and closed its stream with end{more} after ${events}`
      : `journal segment ${seg.name} had no end record (its writer stopped without ending its stream): closed it with end{more} after ${events}`,
  );
  return { header: scan.header, end, lastSeq: scan.lastSeq, size };
}
