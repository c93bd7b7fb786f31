// Pass 1 of an incremental scan: the tree as it is now, walked in manifest order (depth first,
// names in byte order) with one lstat per entry, written to a draft manifest on disk and indexed
// by inode. Contents are not read here; pass 2 reads only what the comparison says changed.
import { constants as osConstants } from 'node:os';
import { bytesToPath, joinPath } from '../stream/path.js';
import type { Path } from '../stream/events.js';
import { PathFilter } from './filter.js';
import { InodeIndex } from './inode-index.js';
import { statDir, type DirEntryStat } from './dir-stat.js';
import { entryFromDirStat, entryFromStat, toStored } from './manifest.js';
import { problemFor, type ScanProblem } from './problems.js';
import type { ScanRoot } from './root.js';
import { StateReader, StateWriter, type StateHeader } from './state-file.js';
import { modeKind, RootPaths } from './walk.js';

export interface WalkOptions {
  filter?: PathFilter;
  oneFileSystem?: boolean;
  /** Entries that could not be listed or stat'ed (their notes go into the stream later). */
  problems: ScanProblem[];
}

export interface Draft {
  reader: StateReader;
  index: InodeIndex;
  /** Removes the draft file. */
  remove(): void;
}

interface Dir {
  path: Path;
  depth: number;
  ino: number;
  entries: DirEntryStat[];
  next: number;
}

function errnoName(errno: number): string {
  return Object.entries(osConstants.errno).find(([, n]) => n === errno)?.[0] ?? `E${errno}`;
}

/** Walks root into a draft manifest at `file` (a temp name beside the state). */
export function walkToDraft(root: ScanRoot, file: string, header: StateHeader, options: WalkOptions): Draft {
  const writer = new StateWriter(file, header);
  const index = new InodeIndex();
  const paths = new RootPaths(root.abs);
  const filter = options.filter ?? new PathFilter([]);
  try {
    const rootEntry = entryFromStat(Buffer.alloc(0), 0, 0, root.st);
    index.add(rootEntry.ino, writer.add(toStored(rootEntry)));
    const list = (path: Path, abs: string | Buffer): DirEntryStat[] => {
      try {
        return statDir(abs);
      } catch (err) {
        const p = problemFor(path, err);
        if (p.code === 'unreadable') p.message = `could not be listed (${p.cause?.code}): taken as an empty directory`;
        options.problems.push(p);
        return [];
      }
    };
    const stack: Dir[] = [{ path: '', depth: 0, ino: rootEntry.ino, entries: list('', root.abs), next: 0 }];
    while (stack.length > 0) {
      const d = stack[stack.length - 1]!;
      if (d.next >= d.entries.length) {
        stack.pop();
        continue;
      }
      const st = d.entries[d.next++]!;
      const text = bytesToPath(st.name);
      if (d.depth === 0 && text === '.rill') continue;
      const path = joinPath(d.path, text);
      if (st.mode < 0) {
        // lstat failed for another reason than the entry vanishing (which statDir leaves out)
        const err = Object.assign(new Error(`lstat failed (errno ${-st.mode})`), { code: errnoName(-st.mode), syscall: 'lstat' });
        options.problems.push(problemFor(path, err));
        continue;
      }
      const kind = modeKind(st.mode);
      if (!filter.empty && filter.excludes(path, kind === 'dir')) continue;
      const e = entryFromDirStat(st, d.depth + 1, d.ino);
      index.add(e.ino, writer.add(toStored(e)));
      if (kind === 'dir' && (!options.oneFileSystem || st.dev === Number(root.st.dev))) {
        stack.push({ path, depth: d.depth + 1, ino: e.ino, entries: list(path, paths.abs(path)), next: 0 });
      }
    }
    writer.close(0);
  } catch (err) {
    writer.discard();
    throw err;
  }
  index.seal();
  const reader = StateReader.open(writer.temp)!;
  return {
    reader,
    index,
    remove() {
      reader.close();
      writer.discard();
    },
  };
}
