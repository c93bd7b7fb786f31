// Streams as data for replica tests: events with seq numbers wrapped in header/end records, fed to
// applyRecords with hooks between records; and snapshots of directories to prove nothing else changed.
import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { applyRecords } from '../../src/replica/index.js';
import type { ApplyOptions, ApplyStats } from '../../src/replica/index.js';
import { RillError, type ErrorKind } from '../../src/errors.js';
import type { Event, EventInput, StreamRecord } from '../../src/stream/events.js';
import { MAGIC, FORMAT_VERSION } from '../../src/stream/events.js';

export const SOURCE = '00000000-0000-4000-8000-00000000feed';

export interface StreamOptions {
  /** Source id (default: a fresh one, so a second replay is not skipped as already applied). */
  source?: string;
  /** seq of the first event (default 1). */
  first?: number;
  /** Add the end record (default true). */
  end?: boolean;
  /** Header fields: a full stream, or a change set on top of base. */
  full?: boolean;
  base?: number;
  /** Header `created` (default 0): which stream of the source this is. */
  created?: bigint;
}

/** header, the events numbered from `first`, and an end record (unless end: false). */
export function stream(events: EventInput[], opts: StreamOptions = {}): StreamRecord[] {
  const first = opts.first ?? 1;
  const evs = events.map((e, i) => ({ ...e, seq: first + i }) as Event);
  const recs: StreamRecord[] = [
    {
      type: 'header', magic: MAGIC, version: FORMAT_VERSION, source: opts.source ?? randomUUID(), node: 'test-node', kind: 'tree', root: { path: '/src' }, created: opts.created ?? 0n,
      ...(opts.full === undefined ? {} : { full: opts.full }),
      ...(opts.base === undefined ? {} : { base: opts.base }),
    },
    ...evs,
  ];
  if (opts.end !== false) recs.push({ type: 'end', count: evs.length, checksum: 0, lastSeq: evs.at(-1)?.seq });
  return recs;
}

/** Yields records; `before(i)` runs before record i is handed over (a place to look at the tree mid-stream). */
export async function* feed(records: StreamRecord[], before?: (i: number, rec: StreamRecord) => void, fail?: Error): AsyncGenerator<StreamRecord> {
  for (let i = 0; i < records.length; i++) {
    before?.(i, records[i]!);
    yield records[i]!;
  }
  if (fail !== undefined) throw fail;
}

/**
 * Replays events into root; log lines are collected in the returned array. Each call is a fresh source
 * unless sopts.source says otherwise, so it is forced (options.force: false to see the refusal).
 */
export async function replay(root: string, events: EventInput[], options: ApplyOptions = {}, sopts: StreamOptions = {}): Promise<{ stats: ApplyStats; log: string[] }> {
  const log: string[] = [];
  const stats = await applyRecords(feed(stream(events, sopts)), root, { log: (l) => log.push(l), force: true, ...options });
  return { stats, log };
}

/** Asserts the promise rejects with a RillError of that kind; returns it. */
export async function rejectsWith(p: Promise<unknown>, kind: ErrorKind, message?: RegExp): Promise<RillError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof RillError, `expected a RillError, got ${String(err)}`);
    assert.equal(err.kind, kind, `kind of: ${err.message}`);
    if (message) assert.match(err.describe(), message);
    return err;
  }
  assert.fail(`expected a RillError of kind ${kind}, but nothing was thrown`);
}

/** Everything observable about a tree (names, types, modes, owners, sizes, ns mtimes, content, targets), one line each. */
export function snapshot(dir: string): string[] {
  const out: string[] = [];
  const walk = (rel: string): void => {
    const abs = rel === '' ? dir : join(dir, rel);
    const st = lstatSync(abs, { bigint: true });
    let extra = '';
    if (st.isSymbolicLink()) extra = `-> ${readlinkSync(abs)}`;
    else if (st.isFile()) extra = createHash('sha256').update(readFileSync(abs)).digest('hex');
    out.push(`${rel || '.'} mode=${st.mode.toString(8)} uid=${st.uid} gid=${st.gid} size=${st.size} mtime=${st.mtimeNs} ino=${st.ino} nlink=${st.nlink} ${extra}`);
    if (st.isDirectory()) for (const name of readdirSync(abs).sort()) walk(rel === '' ? name : `${rel}/${name}`);
  };
  walk('');
  return out;
}

/** Names in ROOT/.rill/tmp (temp files in flight or left behind). */
export function temps(root: string): string[] {
  try {
    return readdirSync(join(root, '.rill', 'tmp'));
  } catch {
    return [];
  }
}
