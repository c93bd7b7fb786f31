// A full stream merged with what follows it is emitted as a full stream again, from the model at the
// end of its window: the tree depth first, names in byte order, each directory's mkdir before its
// entries and its metadata after them, a file's create, data and metadata together, later names of
// a hard-linked file as links to its first, the root's metadata last (rill-stream(5), Scan streams).
import type { Event } from '../stream/events.js';
import { pathToBytes, joinPath } from '../stream/path.js';
import type { Ctx } from './context.js';
import type { MNode } from './identity.js';
import { emitPending } from './pending.js';

const S_IFMT = 0o170000;

/** The permission bits a node ends with: its last chmod, else what made it. */
function finalMode(node: MNode): number {
  const chmod = node.pending?.slots.get('mode');
  const made = (node.make as { mode?: number } | undefined)?.mode ?? 0;
  return (chmod !== undefined && chmod.type === 'chmod' ? chmod.mode : made) & 0o7777;
}

/** The names of a directory's entries in byte order (rill's own directory left out at the root). */
function entries(c: Ctx, dir: MNode): [string, MNode][] {
  const out: [string, MNode, Buffer][] = [];
  for (const [name, slot] of dir.children ?? []) {
    if (slot.node === undefined || (dir === c.ns.root && name === '.rill')) continue;
    out.push([name, slot.node, pathToBytes(name)]);
  }
  return out.sort((a, b) => Buffer.compare(a[2], b[2])).map(([n, node]) => [n, node]);
}

/** The whole tree of the window's model as the events of a full stream. */
export function* emitTree(c: Ctx): Generator<Event> {
  const first = new Map<number, string>();
  yield* emitDir(c, c.ns.root, '', first);
  const root = c.ns.root;
  if (root.pending !== undefined) yield* emitPending(root.id, root.pending, '', c.store);
}

function* emitDir(c: Ctx, dir: MNode, path: string, first: Map<number, string>): Generator<Event> {
  for (const [name, node] of entries(c, dir)) {
    const p = joinPath(path, name);
    const linkTo = first.get(node.id);
    if (linkTo !== undefined) {
      yield { type: 'link', path: p, target: linkTo, seq: node.make!.seq };
      continue;
    }
    const make = node.make!;
    const mode = finalMode(node);
    if (make.type === 'mkdir') yield { ...make, path: p, mode };
    else if (make.type === 'create') yield { ...make, path: p, mode };
    else if (make.type === 'mknod') yield { ...make, path: p, mode: (make.mode & S_IFMT) | mode };
    else yield { ...make, path: p } as Event;
    if (node.names.length > 1) first.set(node.id, p);
    if (node.kind === 'dir') yield* emitDir(c, node, p, first);
    if (node.pending !== undefined) yield* emitPending(node.id, node.pending, p, c.store, (key) => key === 'mode');
  }
}
