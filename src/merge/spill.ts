// Runs: file data that did not fit in --memory, written to temporary files in --tmpdir, each a
// sequence of sections (one per file and phase, in that order: a sorted run of an external sort).
// A section is a table (offset f64, length u32 per extent, in offset order) followed by the bytes.
import { closeSync, mkdtempSync, openSync, readSync, rmSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { RillError } from '../errors.js';

const ENTRY = 12;
const WRITE_CHUNK = 1 << 20;

/** A failure to write or read a run, named by the directory the user chose. */
function spillError(dir: string, err: unknown): RillError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const why = code === 'ENOSPC' ? 'no space left on device' : code === 'EDQUOT' ? 'disk quota exceeded' : (err as Error)?.message;
  return new RillError('io', `cannot spill to the temporary directory ${JSON.stringify(dir)}: ${why}`, {
    path: dir,
    cause: err,
    hint: 'give --tmpdir a directory with more space, or a larger --memory',
  });
}

/** The private directory (in --tmpdir) holding this run's temporary files; removed when done. */
export class SpillDir {
  private readonly path: string;
  private next = 0;

  constructor(readonly parent: string) {
    try {
      this.path = mkdtempSync(join(parent, 'rill-sort-merge-'));
    } catch (err) {
      throw spillError(parent, err);
    }
  }

  /** A new run file, open for writing. */
  newRun(): RunWriter {
    return new RunWriter(join(this.path, `run-${++this.next}`), this.parent);
  }

  /** A file name in the directory (for a spooled stdin). */
  file(name: string): string {
    return join(this.path, name);
  }

  /** Removes the directory and everything in it. */
  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

/** Where one section lies in its run. */
export interface Section {
  run: Run;
  table: number;
  count: number;
  data: number;
  /** Extents are cut at this size (truncates after the section was written). */
  cut: number;
}

/** One extent of a section as read back: its range and where its bytes are in the run. */
export interface RunExtent {
  start: number;
  end: number;
  pos: number;
}

/** A run being written: buffered, sections appended one after another. */
export class RunWriter {
  private readonly fd: number;
  private readonly buf = Buffer.allocUnsafe(WRITE_CHUNK);
  private used = 0;
  private pos = 0;
  readonly run: Run;

  constructor(path: string, private readonly dir: string) {
    try {
      this.fd = openSync(path, 'w+', 0o600);
    } catch (err) {
      throw spillError(dir, err);
    }
    this.run = new Run(path, this.fd, dir);
  }

  /** Appends a section: the ranges first, then their bytes, pulled from `bytes(i)` one at a time. */
  section(starts: ArrayLike<number>, ends: ArrayLike<number>, bytes: (i: number, into: (b: Buffer) => void) => void): Section {
    const count = starts.length;
    const table = this.pos;
    for (let i = 0; i < count; i++) {
      const e = this.room(ENTRY);
      this.buf.writeDoubleLE(starts[i]!, e);
      this.buf.writeUInt32LE(ends[i]! - starts[i]!, e + 8);
    }
    const data = this.pos;
    for (let i = 0; i < count; i++) bytes(i, (b) => this.put(b));
    return { run: this.run, table, count, data, cut: Infinity };
  }

  /** Writes what is buffered; the run can be read from then on. */
  finish(): Run {
    this.flush();
    return this.run;
  }

  private room(n: number): number {
    if (this.used + n > this.buf.length) this.flush();
    const at = this.used;
    this.used += n;
    this.pos += n;
    return at;
  }

  private put(b: Buffer): void {
    if (b.length >= WRITE_CHUNK / 4) {
      this.flush();
      this.writeOut(b);
      this.pos += b.length;
      return;
    }
    b.copy(this.buf, this.room(b.length));
  }

  private flush(): void {
    if (this.used > 0) this.writeOut(this.buf.subarray(0, this.used));
    this.used = 0;
  }

  private writeOut(b: Buffer): void {
    try {
      for (let off = 0; off < b.length; ) off += writeSync(this.fd, b, off, b.length - off);
    } catch (err) {
      throw spillError(this.dir, err);
    }
  }
}

/** A finished run: read back by position. */
export class Run {
  /** Sections still in use; the run is deleted when none is. */
  live = 0;

  constructor(
    private readonly path: string,
    private readonly fd: number,
    private readonly dir: string,
  ) {}

  /** The extents of a section, cut at its cut size. */
  extents(s: Section): RunExtent[] {
    const table = Buffer.allocUnsafe(s.count * ENTRY);
    this.read(table, 0, table.length, s.table);
    const out: RunExtent[] = [];
    let pos = s.data;
    for (let i = 0; i < s.count; i++) {
      const start = table.readDoubleLE(i * ENTRY);
      const length = table.readUInt32LE(i * ENTRY + 8);
      const end = Math.min(start + length, s.cut);
      if (end > start) out.push({ start, end, pos });
      pos += length;
    }
    return out;
  }

  /** Reads length bytes at pos into buf at off. */
  read(buf: Buffer, off: number, length: number, pos: number): void {
    try {
      for (let got = 0; got < length; ) {
        const n = readSync(this.fd, buf, off + got, length - got, pos + got);
        if (n === 0) throw new Error(`run ${this.path} is shorter than its index says`);
        got += n;
      }
    } catch (err) {
      throw spillError(this.dir, err);
    }
  }

  /** Closes and deletes the run file. */
  remove(): void {
    try {
      closeSync(this.fd);
      unlinkSync(this.path);
    } catch {
      // gone already, or the whole directory is being removed
    }
  }
}
