// Streams as data for journal tests: headers, a mix of events (writes of every size class: inline,
// copied, written directly), writing them through a JournalWriter, and reading a journal back into
// records the test may keep (the reader's buffers are reused, so records are copied as they come).
import assert from 'node:assert/strict';
import { FORMAT_VERSION, MAGIC, type End, type Event, type Header, type StreamRecord } from '../../src/stream/events.js';
import { JournalWriter, readJournal, type JournalWriterOptions, type ReadJournalOptions } from '../../src/journal/index.js';

export const SOURCE = '00000000-0000-4000-8000-0000000000aa';

/** A header of SOURCE (or another source), created at `created`. */
export function header(opts: { source?: string; created?: bigint; full?: boolean; base?: number } = {}): Header {
  const h: Header = { type: 'header', magic: MAGIC, version: FORMAT_VERSION, source: opts.source ?? SOURCE, node: 'n1', kind: 'tree', root: { path: '/srv' }, created: opts.created ?? 1000n };
  if (opts.full !== undefined) h.full = opts.full;
  if (opts.base !== undefined) h.base = opts.base;
  return h;
}

/** n events numbered from `first`: names, writes of 10 B, 3 KiB and 80 KiB, metadata, a commit every 7th. */
export function events(first: number, n: number): Event[] {
  const out: Event[] = [];
  for (let i = 0; i < n; i++) {
    const seq = first + i;
    const k = seq % 7;
    if (k === 0) out.push({ type: 'commit', seq });
    else if (k === 1) out.push({ type: 'mkdir', seq, path: `d${seq}`, mode: 0o755 });
    else if (k === 2) out.push({ type: 'create', seq, path: `d${seq - 1}/f`, mode: 0o644 });
    else if (k === 3) out.push({ type: 'write', seq, path: `f${seq}`, offset: 0, data: Buffer.alloc(10, seq) });
    else if (k === 4) out.push({ type: 'write', seq, path: `f${seq}`, offset: 5, data: Buffer.alloc(3000, seq) });
    else if (k === 5) out.push({ type: 'write', seq, path: `f${seq}`, offset: 9, data: Buffer.alloc(80 * 1024, seq) });
    else out.push({ type: 'utimes', seq, path: `f${seq}`, atime: BigInt(seq), mtime: -BigInt(seq) });
  }
  return out;
}

/** A stream as data: its header and events (its end record is the writer's business). */
export interface StreamSpec {
  header: Header;
  events: Event[];
}

/** Writes the streams (each begun, appended, ended) and closes the writer. */
export async function writeJournal(dir: string, streams: StreamSpec[], options: JournalWriterOptions = {}): Promise<void> {
  const w = await JournalWriter.open(dir, options);
  try {
    for (const s of streams) {
      w.beginStream(s.header);
      for (const e of s.events) w.append(e);
      w.endStream();
    }
  } finally {
    await w.close();
  }
}

/** A record the caller may keep after the reader moves on (its buffers copied). */
export function keep(r: StreamRecord): StreamRecord {
  if (r.type === 'write') return { ...r, data: Buffer.from(r.data) };
  if (r.type === 'setxattr') return { ...r, value: Buffer.from(r.value) };
  if (r.type === 'assert') return { ...r, hash: Buffer.from(r.hash) };
  return r;
}

/** Every record readJournal yields (copied). */
export async function readAll(dir: string, options: ReadJournalOptions = {}): Promise<StreamRecord[]> {
  const out: StreamRecord[] = [];
  for await (const batch of readJournal(dir, options)) for (const r of batch) out.push(keep(r));
  return out;
}

/** Splits records into streams: header, events, end (undefined when the records stop inside it). */
export function streamsOf(records: StreamRecord[]): { header: Header; events: Event[]; end: End | undefined }[] {
  const out: { header: Header; events: Event[]; end: End | undefined }[] = [];
  for (const r of records) {
    if (r.type === 'header') out.push({ header: r, events: [], end: undefined });
    else if (r.type === 'end') out.at(-1)!.end = r;
    else out.at(-1)!.events.push(r);
  }
  return out;
}

/** Asserts the records read are exactly these streams, each complete (count and lastSeq its own). */
export function assertStreams(records: StreamRecord[], expected: StreamSpec[]): void {
  const got = streamsOf(records);
  assert.equal(got.length, expected.length, 'number of streams');
  got.forEach((s, i) => {
    const want = expected[i]!;
    assert.deepEqual(s.header, want.header, `header of stream ${i}`);
    assert.deepEqual(s.events, want.events, `events of stream ${i}`);
    assert.ok(s.end !== undefined, `stream ${i} has its end record`);
    assert.equal(s.end.count, want.events.length, `count of stream ${i}`);
    assert.equal(s.end.lastSeq, want.events.at(-1)?.seq, `lastSeq of stream ${i}`);
    assert.equal(s.end.more, undefined, `stream ${i} is not cut`);
  });
}
