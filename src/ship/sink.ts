// rill ship --sink DIR: the receiving end for a backup server's inbox. Stores the incoming streams
// as journal segments, fsyncs, and acknowledges; events it already holds (a resumed session
// re-sends from the last ack it saw) are dropped, so the inbox holds every event once.
import { hostname } from 'node:os';
import { JournalWriter, type Position } from '../journal/index.js';
import type { Header, StreamRecord } from '../stream/events.js';
import type { Upstream } from './upstream.js';

export interface SinkOptions {
  /** Rotate segments at this size (bytes). */
  segmentBytes?: number;
  /** With data written and no commit, sync and ack after this long idle (ms). */
  idleSyncMs?: number;
  log?: (line: string) => void;
}

/** Takes the journal's lock (RillError 'busy' when another sink holds it), says hello, then stores input until it ends. */
export async function runSink(dir: string, input: AsyncIterable<StreamRecord[]>, up: Upstream, options: SinkOptions = {}): Promise<{ events: number; dropped: number }> {
  const log = options.log ?? ((line: string) => process.stderr.write(`rill ship --sink: ${line}\n`));
  const w = await JournalWriter.open(dir, { segmentBytes: options.segmentBytes, onWarning: (m) => log(`warning: ${m}`) });
  let syncing: Promise<void> | undefined;
  let idle: NodeJS.Timeout | undefined;
  let dirty = false;
  // An idle sync that fails (a full disk) stops the sink at once, not at the next input.
  let failIdle!: (err: unknown) => void;
  const idleFailed = new Promise<never>((_, reject) => (failIdle = reject));
  idleFailed.catch(() => {});
  const sync = (): Promise<void> =>
    (syncing ??= w
      .sync()
      .then((at) => {
        if (at !== undefined) up.ack(at.source, at.seq);
      })
      .finally(() => (syncing = undefined)));
  try {
    const held = w.durable;
    up.hello({ role: 'sink', node: hostname(), source: held?.source ?? null, seq: held?.seq ?? null });
    up.keepAlive();
    let header: Header | undefined; // the stream being received
    let begun = false; // its header went to the journal
    let skipThrough = -1;
    let events = 0;
    let dropped = 0;
    const begin = (): void => {
      if (!begun && header !== undefined) w.beginStream(header);
      begun = true;
    };
    const it = input[Symbol.asyncIterator]();
    for (let r = await Promise.race([it.next(), idleFailed]); !r.done; r = await Promise.race([it.next(), idleFailed])) {
      const batch = r.value;
      if (syncing !== undefined) await syncing;
      if (idle !== undefined) clearTimeout(idle);
      for (const rec of batch) {
        if (rec.type === 'header') {
          header = rec;
          begun = false;
          const last = lastHeld(w);
          skipThrough = last !== undefined && last.source === rec.source ? last.seq : -1;
        } else if (rec.type === 'end') {
          // A stream entirely held already (a session re-sent it) is not stored again.
          if (!begun && header !== undefined && alreadyEnded(w, header)) continue;
          begin();
          w.endStream();
          dirty = false;
          await sync();
        } else if (rec.seq <= skipThrough) {
          dropped++;
        } else {
          begin();
          w.append(rec);
          events++;
          dirty = true;
          if (rec.type === 'commit' || rec.type === 'bookmark') {
            dirty = false;
            await sync();
          }
        }
      }
      if (dirty) idle = setTimeout(() => void sync().then(() => (dirty = false), failIdle), options.idleSyncMs ?? 100);
    }
    if (idle !== undefined) clearTimeout(idle);
    if (syncing !== undefined) await syncing;
    await sync();
    return { events, dropped };
  } finally {
    if (idle !== undefined) clearTimeout(idle);
    if (syncing !== undefined) await syncing.catch(() => {});
    up.stop();
    await w.close();
  }
}

/** The last event the journal holds (written, synced or recovered). */
function lastHeld(w: JournalWriter): Position | undefined {
  return w.durable;
}

/** The journal's last stream is this one and it was ended (not cut): a re-sent stream. */
function alreadyEnded(w: JournalWriter, h: Header): boolean {
  const last = w.lastHeader;
  return last !== undefined && last.source === h.source && last.created === h.created && w.lastEnded === true;
}
