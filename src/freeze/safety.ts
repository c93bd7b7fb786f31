// What freeze refuses: the root file system (unless --force), and any file system holding something
// rill or the command it runs must write while it is frozen (a journal, spool or state, the output
// the stream goes to, the temporary directory): that write would block until the deadline.
import { fstatSync, readlinkSync } from 'node:fs';
import { RillError } from '../errors.js';
import { describeFs } from './fifreeze.js';
import { deviceOf, type FileSystem } from './mounts.js';

/** Flags (of rill and of common tools) whose value is a file or directory written while running. */
const WRITTEN_FLAGS = new Set(['--state', '--journal', '--spool', '--output', '-o', '--from', '--sink', '--control']);

/** A place that is written while frozen, and why it matters. */
export interface Written {
  path: string;
  what: string;
  /** Its device when known (an open fd); else that of the path or its nearest existing ancestor. */
  dev?: number;
}

/** The paths a command line names after the flags above (--flag VALUE and --flag=VALUE). */
export function writtenByCommand(argv: string[]): Written[] {
  const out: Written[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const eq = a.indexOf('=');
    if (a.startsWith('--') && eq > 0 && WRITTEN_FLAGS.has(a.slice(0, eq))) out.push({ path: a.slice(eq + 1), what: `the command's ${a.slice(0, eq)}` });
    else if (WRITTEN_FLAGS.has(a) && i + 1 < argv.length) out.push({ path: argv[++i]!, what: `the command's ${a}` });
  }
  return out;
}

/** Refuses freezing the root file system without force. */
export function checkNotRoot(fs: FileSystem, force: boolean): void {
  if (fs.mountPoint === '/' && !force) {
    throw new RillError('unsafe', `refusing to freeze the root file system ${describeFs(fs)}: every process writing to it, rill's own watchdog included, would hang until the thaw`, {
      path: fs.mountPoint,
      hint: 'freeze the file system holding the data (its own mount), or pass --force if you really mean /',
    });
  }
}

/** Refuses when a place written while frozen is on the file system. */
export function checkNotWritten(fs: FileSystem, places: Written[]): void {
  for (const p of places) {
    const dev = p.dev ?? deviceOf(p.path).dev;
    if (dev === fs.dev) {
      throw new RillError('unsafe', `refusing to freeze ${describeFs(fs)}: it holds ${p.what} ${JSON.stringify(p.path)}, which is written while frozen (that write would block until the deadline)`, {
        path: p.path,
        hint: 'keep journals, spools, state files and outputs on another file system',
      });
    }
  }
}

/** rill's stdout or stderr when it is a regular file on the file system (a redirect `> out` there). */
export function outputsOn(fs: FileSystem): Written[] {
  const out: Written[] = [];
  for (const [fd, name] of [[1, 'stdout'], [2, 'stderr']] as const) {
    try {
      const st = fstatSync(fd);
      if (st.isFile() && st.dev === fs.dev) out.push({ path: readlinkSync(`/proc/self/fd/${fd}`), what: `rill's ${name} (redirected to the file)`, dev: st.dev });
    } catch {
      // closed
    }
  }
  return out;
}
