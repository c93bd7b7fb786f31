// rill capture --mount: the native FUSE layer over ROOT, its records numbered and framed as the
// rill stream (stdout or --journal DIR), a control socket, and a clean stop on SIGINT/SIGTERM.
// If this process dies, the layer sees its record pipe break and unmounts at once (applications
// get ENOTCONN, never an unrecorded change); a later `rill capture --scan --state` resync repairs
// the replica, and the next --mount cleans the stale mount up. A journal that cannot take a record
// (disk full) ends it the same way at once: the layer is killed and the mount detached (exit 5).
import { realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { RillError } from '../errors.js';
import { newHeader } from '../stream/encode.js';
import type { Event, EventInput } from '../stream/events.js';
import { Sequencer } from '../stream/sequence.js';
import type { FilterRule } from './filter.js';
import type { CaptureCore } from './mount/control.js';
import { Controller } from './mount/control.js';
import { toEvent } from './mount/events.js';
import { LiveFilter } from './mount/filter.js';
import { NativeLayer } from './mount/layer.js';
import { clearMountpoint, detach, fuseMountAt } from './mount/mounts.js';
import { nativeFuse } from './mount/native.js';
import { F_RING, REC, type NativeRecord } from './mount/records.js';
import { ringOf } from './mount/ring.js';
import { withSink, type Put } from './mount/sink.js';
import { newlyIncluded } from './mount/rescan.js';
import { bytesToPath } from '../stream/path.js';
import { scanEvents } from './scan.js';

export interface MountCaptureOptions {
  root: string;
  /** Mount there instead of over ROOT. */
  at?: string;
  journal?: string;
  journalMax?: number;
  control?: string;
  rules: FilterRule[];
  /** Largest data payload of one write event (bigger writes are split). */
  chunkSize: number;
  node?: string;
  source?: string;
  log: (line: string) => void;
  /** Emit the tree as it is first (writers wait meanwhile), then the changes. */
  scanFirst?: boolean;
  /** The page cache on the mount: writes recorded as the kernel writes them back, flushed every `everyMs` (native/fuse/writeback.c). */
  writeback?: { everyMs: number; dirtyMax: number };
  /** Called once the layer serves the mount. */
  onReady?: (mountpoint: string) => void;
}

export interface MountCaptureResult {
  /** 'signal' when stopped by SIGINT/SIGTERM (its name), 'unmounted' when the mount went away. */
  stoppedBy: NodeJS.Signals | 'unmounted';
  lastSeq: number;
}

const REC_F_DIR = 0x8000;

/** The absolute real path of p, or of its nearest existing ancestor joined with the rest. */
function realish(p: string): string {
  const abs = resolve(p);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : `${realish(parent)}/${abs.slice(parent.length + 1)}`;
  }
}

const inside = (p: string, dir: string): boolean => p === dir || p.startsWith(dir.endsWith('/') ? dir : `${dir}/`);

/** Refuses what cannot work: ROOT not a directory, a journal or control socket inside what is captured. */
function checkPaths(o: MountCaptureOptions): { root: string; mountpoint: string } {
  let st;
  try {
    st = statSync(o.root);
  } catch (err) {
    throw new RillError('io', `cannot capture ${o.root}`, { path: o.root, cause: err, hint: 'name an existing directory' });
  }
  if (!st.isDirectory()) throw new RillError('usage', `--mount needs a directory; ${o.root} is not one`);
  const root = realpathSync(o.root);
  const mountpoint = o.at === undefined ? root : realish(o.at);
  if (o.at !== undefined && !statSync(mountpoint, { throwIfNoEntry: false })?.isDirectory()) {
    throw new RillError('usage', `--at ${o.at}: not a directory to mount on`);
  }
  for (const [flag, p] of [['--journal', o.journal], ['--control', o.control]] as const) {
    if (p === undefined) continue;
    const real = realish(p);
    for (const dir of new Set([root, mountpoint])) {
      if (inside(real, dir)) {
        throw new RillError('usage', `${flag} ${p} is inside the captured tree ${dir}: the capture would record itself`, { hint: 'keep it elsewhere, e.g. /var/lib/rill/NAME or /run/rill/NAME.sock' });
      }
    }
  }
  return { root, mountpoint };
}

/** Splits big writes into chunkSize events (the stream's frames stay small). */
function* chunks(e: EventInput, chunkSize: number): Generator<EventInput> {
  if (e.type !== 'write' || e.data.length <= chunkSize) {
    yield e;
    return;
  }
  for (let at = 0; at < e.data.length; at += chunkSize) {
    yield { type: 'write', path: e.path, offset: e.offset + at, data: e.data.subarray(at, at + chunkSize), time: e.time };
  }
}

/**
 * RENAME_EXCHANGE as three plain renames through a temporary name beside the first path (replay has
 * no exchange yet); the name holds a counter, so it cannot be an entry of the tree's own.
 */
function exchangeAsRenames(e: EventInput & { type: 'rename' }, n: number): EventInput[] {
  const slash = e.path.lastIndexOf('/');
  const tmp = `${slash < 0 ? '' : e.path.slice(0, slash + 1)}.rill-exchange-${process.pid}-${n}`;
  const at = { time: e.time };
  return [
    { type: 'rename', path: e.path, to: tmp, noreplace: true, ...at },
    { type: 'rename', path: e.to, to: e.path, noreplace: true, ...at },
    { type: 'rename', path: tmp, to: e.to, noreplace: true, ...at },
  ];
}

/** Serves ROOT through the FUSE layer until SIGINT/SIGTERM or an unmount, writing every mutation. */
export async function mountCapture(o: MountCaptureOptions): Promise<MountCaptureResult> {
  // first: a stale mount left by a crash makes every access to the path fail (ENOTCONN)
  clearMountpoint(realish(o.at ?? o.root), o.log);
  const { root, mountpoint } = checkPaths(o);
  const exe = nativeFuse();
  const rootSt = statSync(root);
  const header = newHeader({ kind: 'tree', root: { path: root, dev: Number(rootSt.dev), ino: Number(rootSt.ino) }, node: o.node, source: o.source });
  let filter = new LiveFilter(o.rules);
  const seq = new Sequencer(1);
  let bytes = 0;
  let waitingSince = 0;
  const marks = new Map<number, () => void | Promise<void>>();
  let put: Put | undefined;
  let exchanges = 0;
  /** The backing tree below the mount (the layer's root descriptor): scans read it, not the mount, whose directories a held writer may keep locked in the kernel. */
  let backing = root;

  const wb = o.writeback === undefined ? [] : ['--writeback', String(o.writeback.everyMs), '--dirty-max', String(o.writeback.dirtyMax)];
  // with a journal, an fsync through the mount returns once the journal holds it durably
  if (o.journal !== undefined) wb.push('--fsync-acks');
  const layer = new NativeLayer(exe, root, o.at === undefined ? undefined : mountpoint, wb);
  let stoppedBy: MountCaptureResult['stoppedBy'] = 'unmounted';
  /** The journal could not take a record (disk full, I/O error): the layer is killed at once, so applications get errors, not unrecorded changes. */
  let journalFailure: RillError | undefined;
  const onSignal = (sig: NodeJS.Signals) => () => {
    if (stoppedBy !== 'unmounted') return;
    stoppedBy = sig;
    o.log(`${sig}: stopping (draining in-flight writes, unmounting ${mountpoint})`);
    layer.stop();
  };
  const onInt = onSignal('SIGINT');
  const onTerm = onSignal('SIGTERM');
  process.on('SIGINT', onInt);
  process.on('SIGTERM', onTerm);

  // Events are numbered as they come and staged, then handed to the sink together: once per read
  // from the layer (records arrive many at a time), and before anything waits or acts on the order.
  let staged: Event[] = [];
  const stage = (e: EventInput): void => {
    for (const part of chunks(e, o.chunkSize)) {
      const ev = seq.assign(part) as Event;
      if (ev.type === 'write') bytes += ev.data.length;
      staged.push(ev);
    }
  };
  /** Hands the staged events to the sink; a promise when the sink wants the caller to wait. */
  const flush = (): Promise<void> | undefined => {
    if (staged.length === 0) return undefined;
    const batch = staged;
    staged = [];
    const wait = put!(batch);
    if (wait === undefined) return undefined;
    // a commit lets `replay --ack` acknowledge what came so far, so `ship` can trim the journal
    const last = batch[batch.length - 1]!;
    if (o.journal !== undefined && last.type !== 'commit') put!([seq.assign({ type: 'commit', time: last.time }) as Event]);
    waitingSince = Date.now();
    return wait.then(() => {
      waitingSince = 0;
    });
  };
  const emit = async (e: EventInput): Promise<number> => {
    stage(e);
    const n = seq.last;
    await flush();
    return n;
  };
  const core: CaptureCore = {
    command(cmd, then) {
      marks.set(layer.command(cmd), then);
    },
    emit,
    async refilter(rules) {
      const before = filter;
      filter = new LiveFilter(rules);
      for (const e of newlyIncluded(backing, before, filter, o.chunkSize)) await emit(e);
    },
    status: () => ({
      root,
      source: header.source,
      seq: seq.last,
      queue: waitingSince === 0 ? 0 : 1,
      lagMs: waitingSince === 0 ? 0 : Date.now() - waitingSince,
      bytes,
      include: filter.include,
      exclude: filter.exclude,
      journal: o.journal === undefined ? null : realish(o.journal),
    }),
  };
  const controller = new Controller(core, o.log);
  let server: { close(): Promise<void> } | undefined;

  const handle = async (r: NativeRecord): Promise<void> => {
    if (r.op === REC.mark) {
      const then = marks.get(Number(r.a));
      marks.delete(Number(r.a));
      if (then !== undefined) await then();
      return;
    }
    if (r.op === REC.ready) {
      backing = `/proc/${r.a}/fd/${r.b}`;
      if (o.control !== undefined) {
        const { startControlServer } = await import('../control/server.js');
        server = await startControlServer(o.control, controller, () => core.status(), o.log);
      }
      o.log(`serving ${root} on ${mountpoint} (FUSE layer pid ${r.a}); stop with SIGINT or SIGTERM`);
      if (o.scanFirst === true) {
        // not awaited: the copy runs when the layer's pause mark comes through this same loop
        controller.atomically(async () => {
          let n = 0;
          for (const e of scanEvents(backing, { filter: filter.filter, chunkSize: o.chunkSize })) {
            if (e.type === 'note' && e.code === 'live-scan') continue; // not so here: writers wait
            await emit(e);
            n++;
          }
          o.log(`initial copy: ${n} events; live changes follow`);
        }).catch((err: unknown) => o.log(`the initial copy failed: ${(err as Error).message}`));
      }
      o.onReady?.(mountpoint);
      return;
    }
    stageRecord(r);
  };
  /** A record's events, staged (no waiting: the caller flushes). */
  const stageRecord = (r: NativeRecord): void => {
    if (r.op === REC.lost) {
      const path = r.strs.length > 0 ? bytesToPath(r.strs[0]!) : '';
      o.log(`warning: a change under ${path || root} could not be named (errno ${r.a}); the replica needs a --scan resync`);
      stage({ type: 'note', code: 'lost', message: `a change could not be named (errno ${r.a}): resync the replica with rill capture --scan`, path, time: r.time });
      return;
    }
    const e = toEvent(r);
    if (e === undefined) throw new RillError('io', `the FUSE layer sent an unknown record kind ${r.op}`);
    const isDir = (r.flags & REC_F_DIR) !== 0;
    const kept = filter.apply(e, isDir);
    if (kept === undefined) {
      if ((r.flags & F_RING) !== 0) ringOf(r.payload)?.dropped(r.payload);
      return;
    }
    if (kept.type === 'rename' && kept.exchange === true) for (const one of exchangeAsRenames(kept, ++exchanges)) stage(one);
    else stage(kept);
  };

  try {
    const sinkOptions = {
      journal: o.journal,
      journalMax: o.journalMax,
      log: o.log,
      onFull: (full: boolean) => o.log(full ? `the journal holds more than --journal-max: writers wait until rill ship trims it` : 'the journal has room again: writers go on'),
      stopping: () => stoppedBy !== 'unmounted',
      onJournalFailure: (err: RillError) => {
        if (journalFailure !== undefined) return;
        journalFailure = err;
        // not a clean stop (that would let in-flight changes succeed into a journal that cannot take them);
        // reading stops first, so the layer's writers wait on the full channel until the kill lands
        layer.halt();
        layer.kill();
      },
      journalFailureHint:
        `the FUSE layer was stopped and ${mountpoint} unmounted: applications with files open on it now get errors (ENOTCONN); ` +
        `the journal keeps the records written before the failure (its stream is not marked complete), and changes still in flight to it reached ROOT unrecorded. ` +
        `Make room on the journal's file system (or choose another --journal), resync the replica (rill capture --scan ROOT | rill replay --force REPLICA), then start --mount again`,
    };
    await withSink(sinkOptions, header, async (p, synced) => {
      put = p;
      let ready = false;
      for await (const batch of layer.batches()) {
        let commit = 0n;
        for (const r of batch) {
          if (r.op === REC.mark || r.op === REC.ready) {
            // control records act on the order so far: what came before them goes out first
            ready ||= r.op === REC.ready;
            await flush();
            await handle(r);
          } else {
            stageRecord(r);
            if (r.op === REC.commit && r.a > commit) commit = r.a;
          }
        }
        await flush();
        // the fsyncs behind these commits return once the journal holds them (one fsync for the batch)
        if (o.journal !== undefined && commit > 0n) {
          const token = commit;
          synced().then(() => layer.ack(token), () => undefined); // a failed fsync ends the capture, and the layer's fsyncs fail with it
        }
      }
      const exit = await layer.exited;
      if (journalFailure !== undefined) throw journalFailure;
      if (!ready) throw new RillError('io', `the FUSE layer could not serve ${root} on ${mountpoint} (it exited with ${exit.code}; its message is above)`);
      if (exit.code !== 0) {
        // a change it made on ROOT may have died with it before its record: never end this stream as good
        const how = exit.signal !== null ? `was killed by ${exit.signal}` : `exited with ${exit.code}`;
        await emit({ type: 'note', code: 'layer-died', message: `the FUSE layer ${how}: a change in flight may be missing; resync the replica with rill capture --scan` });
        throw new RillError('io', `the FUSE layer serving ${mountpoint} ${how}; the mount is gone and the stream is left without its end record`, { hint: 'resync the replica (rill capture --scan ROOT | rill replay --force REPLICA), then start --mount again' });
      }
    });
  } finally {
    process.off('SIGINT', onInt);
    process.off('SIGTERM', onTerm);
    controller.close();
    await server?.close();
    layer.kill();
    const exit = await layer.exited;
    layer.dispose();
    // the layer unmounts itself; a mount still there (it was killed) is detached here
    if (fuseMountAt(mountpoint)?.fstype === 'fuse.rill') detach(mountpoint);
    if (exit.code !== 0 && exit.code !== null && stoppedBy === 'unmounted' && journalFailure === undefined) o.log(`the FUSE layer exited with code ${exit.code}`);
  }
  return { stoppedBy, lastSeq: seq.last };
}
