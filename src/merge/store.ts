// File data of a window, by file identity and phase, within the memory budget: payloads are copied
// into slabs; when the bytes copied reach the budget, memory is compacted (if most of it was
// overwritten) or spilled to a sorted run (an external merge sort in tiers: FAN_IN runs of a tier
// are merged into one run of the next, so each byte is rewritten log16(runs) times, not once per
// merge; the last writer wins throughout). Nothing is held beyond the budget but the run indexes.
import { ExtentMap } from './extents.js';
import { readPieces, resolve, runSource, type Piece, type SourceExtents } from './resolve.js';
import type { Run, Section, SpillDir } from './spill.js';

/** Runs of a tier merged into one run of the next once there are this many. */
const FAN_IN = 16;
/** Payloads are copied into slabs of this size, or of an eighth of a small budget (fewer garbage slabs to collect). */
const SLAB = 1 << 20;
const EMPTY = Buffer.alloc(0);

interface PhaseData {
  mem: ExtentMap | undefined;
  /** Oldest first. */
  runs: Section[];
}

/** What spilling did, for --verbose and the benchmark. */
export interface StoreStats {
  spilledBytes: number;
  runs: number;
  merges: number;
}

/** The data store of one sort-merge. */
export class DataStore {
  private readonly files = new Map<number, PhaseData[]>();
  private copied = 0;
  /** Live runs by tier (0: spilled from memory; k + 1: merged from FAN_IN runs of tier k), oldest first. */
  private tiers: Run[][] = [];
  private slab: Buffer = EMPTY;
  private slabUsed = 0;
  /** Slabs holding bytes of extents held in memory, and slabs free to reuse (none is left to the GC: RSS stays put). */
  private used: Buffer[] = [];
  private spare: Buffer[] = [];
  private readonly slabBytes: number;
  private dir: SpillDir | undefined;
  readonly stats: StoreStats = { spilledBytes: 0, runs: 0, merges: 0 };

  /** `limit`: payload bytes held in memory at most; `spillDir` makes the temporary directory when first needed. */
  constructor(
    private readonly limit: number,
    private readonly spillDir: () => SpillDir,
  ) {
    this.slabBytes = Math.max(4096, Math.min(SLAB, Math.floor(limit / 8)));
  }

  /** Records a write (data is copied: the caller's buffer may be reused). */
  write(id: number, phase: number, offset: number, data: Buffer): void {
    const p = this.phase(id, phase);
    const same = p.mem?.exact(offset, data.length);
    // The same range written again (a database page): its bytes are replaced where they are held,
    // no new memory taken. Safe: a held extent's buffer is referenced by nothing else until emitted,
    // and a file's data is dropped from the store when it is emitted.
    if (same !== undefined) return void data.copy(same);
    (p.mem ??= new ExtentMap()).write(offset, this.copy(data));
    this.copied += data.length;
    if (this.copied > this.limit) this.relieve();
  }

  /** A truncate: every byte of the file held so far at and beyond size is cut (in every phase). */
  cut(id: number, size: number): void {
    for (const p of this.files.get(id) ?? []) {
      p.mem?.cut(size);
      for (const s of p.runs) s.cut = Math.min(s.cut, size);
    }
  }

  /** The resolved bytes of one phase of a file, in offset order. */
  pieces(id: number, phase: number): Piece[] {
    const p = this.files.get(id)?.[phase];
    if (p === undefined) return [];
    const sources: SourceExtents[] = [];
    if (p.mem !== undefined) sources.push(p.mem.starts.map((s, i) => ({ start: s, end: p.mem!.ends[i]!, buf: p.mem!.bufs[i]!, pos: 0 })));
    for (let i = p.runs.length - 1; i >= 0; i--) sources.push(runSource(p.runs[i]!.run, p.runs[i]!.run.extents(p.runs[i]!)));
    return resolve(sources);
  }

  /** Forgets a file's data (emitted, or the file is gone); runs nobody needs any more are deleted. */
  drop(id: number): void {
    for (const p of this.files.get(id) ?? []) for (const s of p.runs) this.release(s.run);
    this.files.delete(id);
  }

  /** Forgets everything (a window ended). */
  reset(): void {
    for (const id of [...this.files.keys()]) this.drop(id);
    for (const r of this.tiers.flat()) r.remove();
    this.tiers = [];
    this.copied = 0;
    this.recycleAll();
  }

  private phase(id: number, phase: number): PhaseData {
    let list = this.files.get(id);
    if (list === undefined) this.files.set(id, (list = []));
    while (list.length <= phase) list.push({ mem: undefined, runs: [] });
    return list[phase]!;
  }

  /** Copies a payload into the current slab (large ones get their own buffer). */
  private copy(data: Buffer): Buffer {
    if (data.length >= this.slabBytes / 4) return Buffer.from(data);
    if (this.slabUsed + data.length > this.slab.length) {
      this.slab = this.spare.pop() ?? Buffer.allocUnsafeSlow(this.slabBytes);
      this.used.push(this.slab);
      this.slabUsed = 0;
    }
    const out = this.slab.subarray(this.slabUsed, this.slabUsed + data.length);
    data.copy(out);
    this.slabUsed += data.length;
    return out;
  }

  /** The budget is reached: compact when most copied bytes were overwritten since, else spill a run. */
  private relieve(): void {
    let live = 0;
    for (const list of this.files.values()) for (const p of list) live += p.mem?.bytes ?? 0;
    if (live <= this.limit / 2) {
      // Live bytes into fresh slabs; the old ones are then free (at most 1.5 x limit held meanwhile).
      const old = this.used;
      this.used = [];
      this.slab = EMPTY;
      for (const list of this.files.values()) {
        for (const p of list) if (p.mem !== undefined) for (let i = 0; i < p.mem.size; i++) p.mem.bufs[i] = this.copy(p.mem.bufs[i]!);
      }
      this.spare.push(...old);
      this.copied = live;
      return;
    }
    this.spill();
    for (let t = 0; (this.tiers[t]?.length ?? 0) >= FAN_IN; t++) this.mergeTier(t);
  }

  /** Writes every file's in-memory data as one run, in (file, phase) order. */
  private spill(): void {
    const w = (this.dir ??= this.spillDir()).newRun();
    for (const id of [...this.files.keys()].sort((a, b) => a - b)) {
      for (const p of this.files.get(id)!) {
        const m = p.mem;
        if (m === undefined || m.size === 0) continue;
        p.runs.push(w.section(m.starts, m.ends, (i, put) => put(m.bufs[i]!)));
        w.run.live++;
        this.stats.spilledBytes += m.bytes;
        p.mem = undefined;
      }
    }
    (this.tiers[0] ??= []).push(w.finish());
    this.recycleAll();
    this.stats.runs++;
    this.copied = 0;
  }

  /**
   * Merges the runs of tier t into one run of tier t + 1: each file's sections in them resolved
   * (last writer wins, cuts applied). They are the newest runs (tiers below t are empty now), so
   * their sections are the newest of each file's list, which the merged section replaces.
   */
  private mergeTier(t: number): void {
    const merging = new Set(this.tiers[t]!);
    const w = this.dir!.newRun();
    for (const id of [...this.files.keys()].sort((a, b) => a - b)) {
      for (const p of this.files.get(id)!) {
        const k = p.runs.findIndex((s) => merging.has(s.run));
        if (k < 0) continue;
        const newest = p.runs.slice(k);
        if (newest.some((s) => !merging.has(s.run))) throw new Error('internal: the runs merged are not the newest of a file');
        const pieces = resolve(newest.reverse().map((s) => runSource(s.run, s.run.extents(s))));
        const merged = w.section(pieces.map((x) => x.offset), pieces.map((x) => x.offset + x.length), (i, put) => put(readPieces([pieces[i]!])));
        for (const s of p.runs.slice(k)) this.release(s.run);
        p.runs = [...p.runs.slice(0, k), merged];
        w.run.live++;
      }
    }
    for (const r of merging) if (r.live > 0) throw new Error('internal: a merged run is still referenced');
    this.tiers[t] = [];
    (this.tiers[t + 1] ??= []).push(w.finish());
    this.stats.merges++;
  }

  /** No extent held in memory any more: every slab may be reused. */
  private recycleAll(): void {
    this.spare.push(...this.used);
    this.used = [];
    this.slab = EMPTY;
  }

  private release(run: Run): void {
    if (--run.live > 0) return;
    run.remove();
    this.tiers = this.tiers.map((tier) => tier.filter((r) => r !== run));
  }
}
