// Where a mount capture's events go: the stream on stdout, or a journal directory. Backpressure:
// stdout's reader slows the layer's writers (nothing is buffered beyond the encoder's window); a
// journal absorbs a slow reader, and only past --journal-max do writers block until `rill ship`
// trims it. Never is an event dropped.
import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { encodeTo } from '../../cli-encode.js';
import { drained } from '../emit.js';
import type { Event } from '../../stream/events.js';
import type { HeaderInit } from '../../stream/encode.js';
import { JournalWriter } from '../../journal/writer.js';
import { listSegments } from '../../journal/names.js';

/** Takes one event; returns a promise when the caller must wait before the next. */
export type Put = (e: Event) => Promise<void> | undefined;

export interface SinkOptions {
  /** Journal directory; undefined: stdout. */
  journal?: string;
  /** Block writers while the journal holds more than this many bytes. */
  journalMax?: number;
  /** What the journal says (recovered tails ...). */
  log: (line: string) => void;
  /** Called with true while writers are held back by --journal-max, false when released. */
  onFull?: (full: boolean) => void;
  /** True once the capture is stopping: the journal then takes what is left, over --journal-max. */
  stopping?: () => boolean;
}

/** Runs `body` with a put function into the chosen output, then ends the stream (an end record). */
export async function withSink(o: SinkOptions, header: HeaderInit, body: (put: Put) => Promise<void>): Promise<void> {
  if (o.journal === undefined) {
    await encodeTo(undefined, header, (encoder) =>
      body((e) => {
        if (encoder.destroyed) throw encoder.errored ?? new Error('the output closed before the stream was complete');
        return encoder.write(e) ? undefined : drained(encoder);
      }),
    );
    return;
  }
  // segments small enough that trimming behind acks can bring the journal back under --journal-max
  const segmentBytes = o.journalMax === undefined ? undefined : Math.max(256 * 1024, Math.floor(o.journalMax / 4));
  const w = await JournalWriter.open(o.journal, { segmentBytes, onWarning: (m) => o.log(`warning: ${m}`) });
  try {
    w.beginStream({ type: 'header', magic: 'rill', version: 1, ...header });
    const gauge = o.journalMax === undefined ? undefined : new JournalGauge(o.journal, o.journalMax, o.onFull, o.stopping);
    await body((e) => {
      w.append(e);
      return gauge?.added(e.type === 'write' ? e.data.length + 64 : 64);
    });
    w.endStream();
    await w.sync();
  } finally {
    await w.close();
  }
}

/** Why: --journal-max: tracks the journal's size cheaply (estimates between measurements) and waits while it is over. */
class JournalGauge {
  private estimate = 0;
  private measuredAt = 0;

  constructor(
    private readonly dir: string,
    private readonly max: number,
    private readonly onFull?: (full: boolean) => void,
    private readonly stopping: () => boolean = () => false,
  ) {}

  added(bytes: number): Promise<void> | undefined {
    this.estimate += bytes;
    if (this.estimate <= this.max && Date.now() - this.measuredAt < 1000) return undefined;
    return this.settle();
  }

  private async settle(): Promise<void> {
    let size = await this.measure();
    if (size <= this.max) return;
    this.onFull?.(true);
    while (size > this.max && !this.stopping()) {
      await sleep(200);
      size = await this.measure();
    }
    this.onFull?.(false);
  }

  private async measure(): Promise<number> {
    let total = 0;
    for (const s of await listSegments(this.dir)) {
      try {
        total += (await stat(s.path)).size;
      } catch {
        // trimmed meanwhile
      }
    }
    this.estimate = total;
    this.measuredAt = Date.now();
    return total;
  }
}
