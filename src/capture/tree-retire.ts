// Pass 2a of an incremental scan: what leaves the old places, read from the last run's manifest in
// order. Moved entries go to the stash (.rill/stash/NAME), gone ones are removed, children before
// their directory; directories act after their contents, so every path used is still the old one.
import type { EventInput } from '../stream/events.js';
import { PathStack } from './manifest.js';
import { decodeEntry, isDir, oldFate, stashPath, type OldFate, type Sides } from './tree-fate.js';

interface OpenDir {
  depth: number;
  path: string;
  fate: OldFate;
  stash: string;
}

export function* retireOld(s: Sides): Generator<EventInput> {
  const paths = new PathStack();
  const open: OpenDir[] = [];
  function* close(d: OpenDir): Generator<EventInput> {
    if (d.fate === 'moved') yield { type: 'rename', path: d.path, to: d.stash };
    else if (d.fate === 'gone') yield { type: 'rmdir', path: d.path };
  }
  for (const [, rec] of s.old.records()) {
    const o = decodeEntry(rec, s.old);
    const path = paths.push(o.depth, o.name);
    while (open.length > 0 && open[open.length - 1]!.depth >= o.depth) yield* close(open.pop()!);
    if (o.depth === 0) continue; // the root stays (its identity was checked)
    const fate = oldFate(o, s);
    if (isDir(o)) {
      open.push({ depth: o.depth, path, fate, stash: stashPath(o) });
    } else if (fate === 'moved') {
      yield { type: 'rename', path, to: stashPath(o) };
    } else if (fate === 'gone') {
      yield { type: 'unlink', path };
    }
  }
  while (open.length > 0) yield* close(open.pop()!);
}
