// The output of a sort-merge: records in batches to the encoder (which frames them and computes each
// end record), one or more streams ("parts": a full stream, then a change set on top of it), with
// backpressure from the file or pipe behind the encoder.
import { once } from 'node:events';
import { FORMAT_VERSION, MAGIC, type Event, type StreamRecord } from '../stream/events.js';
import type { HeaderInit, StreamEncoder } from '../stream/encode.js';

const BATCH_RECORDS = 1024;
const BATCH_BYTES = 256 << 10;

/** What was written, for the summary line. */
export interface OutputStats {
  events: number;
  writeBytes: number;
  streams: number;
}

/** Writes parts and their events to an encoder. */
export class PartWriter {
  private batch: StreamRecord[] = [];
  private bytes = 0;
  /** A part is open (its header written, its end not yet). */
  open = false;
  readonly stats: OutputStats = { events: 0, writeBytes: 0, streams: 0 };

  constructor(private readonly encoder: StreamEncoder) {}

  /** Starts a part. */
  header(h: HeaderInit): void {
    this.batch.push({ type: 'header', magic: MAGIC, version: FORMAT_VERSION, ...h });
    this.open = true;
    this.stats.streams++;
  }

  /** An event of the open part. */
  event(e: Event): void {
    this.batch.push(e);
    this.stats.events++;
    if (e.type === 'write') {
      this.bytes += e.data.length;
      this.stats.writeBytes += e.data.length;
    }
  }

  /** Ends the open part (the encoder fills in count, checksum and lastSeq). */
  end(): void {
    this.batch.push({ type: 'end', count: 0, checksum: 0 });
    this.open = false;
  }

  /** Enough is batched that it should go to the encoder now. */
  get full(): boolean {
    return this.batch.length >= BATCH_RECORDS || this.bytes >= BATCH_BYTES;
  }

  /** Hands the batch to the encoder; waits while the output is behind. */
  async drain(): Promise<void> {
    if (this.batch.length === 0) return;
    const b = this.batch;
    this.batch = [];
    this.bytes = 0;
    if (!this.encoder.write(b)) await once(this.encoder, 'drain');
  }
}
