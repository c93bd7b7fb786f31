// The group of an entry made without a chown of its own comes from where and when replay makes it:
// in a set-group-ID directory, the directory's group, and its default ACL; and replay makes
// directories, symlinks and devices in place when their name is free, else under .rill/tmp (regular
// files always there). So in a directory that may be set-group-ID (one that existed before the
// window, or was made with or given that bit in it), such an entry is made exactly where and when
// the input makes it, over what the input has there; elsewhere it may be held like any other.
import type { Event } from '../stream/events.js';
import type { Ctx } from './context.js';
import type { Loc, MNode } from './identity.js';

type Gen = Generator<Event, void, undefined>;

/** Metadata of a directory that entries made in it take on: its group, its set-group-ID bit, its default ACL. */
export const CONTEXT_KEYS = new Set(['owner', 'mode', 'x:system.posix_acl_default']);

/** A directory entries made in may take their group from. */
export function maySetgid(dir: MNode): boolean {
  return dir.origin === 'pre' || dir.setgid;
}

/** Emits a directory's pending changes that entries made in it take on (before one is made there). */
export function* dirContext(c: Ctx, dir: MNode): Gen {
  const p = dir.pending;
  if (p === undefined) return;
  for (const [key, e] of [...p.slots]) {
    if (!CONTEXT_KEYS.has(key)) continue;
    p.slots.delete(key);
    yield { ...e, path: c.ns.pathOf(dir) } as Event;
  }
}

/** Before a change of a directory's group, mode or default ACL: entries made in it before are made first. */
export function* beforeContext(c: Ctx, dir: MNode, key: string, seq: number): Gen {
  if (!CONTEXT_KEYS.has(key) || c.collecting) return;
  for (const slot of dir.children?.values() ?? []) if (slot.node?.inheritsGroup === true) yield* c.materialize(slot.node, seq);
}

/** Makes node at loc now, as the input does: over the entry the input has there (made first if held). */
export function* makeNow(c: Ctx, node: MNode, loc: Loc, make: Event): Gen {
  c.emitting();
  yield* c.materialize(loc.dir, make.seq);
  const slot = loc.slot;
  const o = slot?.node;
  if (o?.held === true) yield* c.materialize(o, make.seq); // the name is taken in the input: so it is in the output
  if (o !== undefined) yield* c.loseName(o, loc, make.seq);
  yield* dirContext(c, loc.dir);
  yield make;
  c.ns.attach(node, loc);
}
