// ship's input from stdin: every record is written to the spool journal as it is read (write(2)
// at once, fsync at commit points and stream ends), so a ship killed later loses nothing it read.
import type { JournalWriter, Position } from '../journal/index.js';
import type { StreamRecord } from '../stream/events.js';

/** How the input went: through its end, or stopped (a signal) with this much of it spooled. */
export interface SpoolResult {
  /** The input ended cleanly (every stream it held ended). */
  complete: boolean;
  /** Events spooled. */
  events: number;
  /** The last commit point spooled (commit, bookmark or a stream's end). */
  lastCommit: Position | undefined;
}

/** Spools records until the input ends or `stop()` returns true between batches. */
export async function spoolInput(w: JournalWriter, input: AsyncIterable<StreamRecord[]>, stop: () => boolean): Promise<SpoolResult> {
  const result: SpoolResult = { complete: false, events: 0, lastCommit: undefined };
  let source = '';
  let open = false;
  let lastSeq = -1;
  for await (const batch of input) {
    let syncAfter = false;
    for (const rec of batch) {
      if (rec.type === 'header') {
        w.beginStream(rec);
        source = rec.source;
        open = true;
      } else if (rec.type === 'end') {
        w.endStream();
        open = false;
        syncAfter = true;
        if (lastSeq >= 0) result.lastCommit = { source, seq: lastSeq };
      } else {
        w.append(rec);
        result.events++;
        lastSeq = rec.seq;
        if (rec.type === 'commit' || rec.type === 'bookmark') {
          syncAfter = true;
          result.lastCommit = { source, seq: rec.seq };
        }
      }
    }
    if (syncAfter) await w.sync();
    if (stop()) return result;
  }
  await w.sync();
  result.complete = !open;
  return result;
}
