// The coalescing table: what each event kind does to the window's model, and what it emits at once.
// Entries made in the window are held (create → write → rename ends as one create at the last name;
// made and removed, nothing). Changes of names of entries that existed before are emitted in order,
// as they came. Data and metadata are absorbed into their file's pending changes (pending.ts).
// A handler throws Confusion before changing anything when it cannot follow the input.
import type { Event, EventOf, HandlerTable } from '../stream/events.js';
import type { Ctx } from './context.js';
import { marked, type Middle } from './chain.js';
import { Confusion, type Kind, type Loc, type MNode, type Slot } from './identity.js';
import type { Touch } from './alias.js';
import { beforeContext, makeNow, maySetgid } from './group.js';
import { CUT_ALIGN, stampOf, type Pending } from './pending.js';

type Gen = Generator<Event, void, undefined>;
const EMPTY = Buffer.alloc(0);

/** Paths in rill's own directory: only stash entries, and nothing can be made there. */
const inStash = (p: string): boolean => p.startsWith('.rill/');

/** The node a data op acts on: a regular file. */
function fileAt(c: Ctx, path: string): MNode {
  if (c.kind === 'volume' && path !== '') throw new Confusion('a volume stream names only the volume');
  const n = c.ns.nodeAt(path, 'file');
  n.become('file');
  if (n.kind !== 'file') throw new Confusion(`it is a ${n.kind}, not a regular file`);
  return n;
}

/** The node a metadata op acts on. */
function entryAt(c: Ctx, path: string): MNode {
  if (c.kind === 'volume') throw new Confusion('a volume stream carries only data');
  return c.ns.nodeAt(path, 'unknown');
}

/** A data op on a regular file; `mark` stands for it where the data goes among the metadata. */
function* data(c: Ctx, e: EventOf<'write' | 'truncate' | 'punch'>, touch: Touch, apply: (p: Pending, mark: Event, id: number) => void): Gen {
  const node = fileAt(c, e.path);
  const mark = { type: e.type, path: '', offset: 0, data: EMPTY, ...stampOf(e) } as Event;
  yield* c.absorb(node, touch, (p) => apply(p, mark, node.id), e.seq);
}

/** A metadata op: the last of its key wins. */
function* meta(c: Ctx, e: Event & { path: string }, key: string, kept: Event): Gen {
  const node = entryAt(c, e.path);
  yield* beforeContext(c, node, key, e.seq);
  if (key === 'mode' && node.kind === 'dir' && (kept as { mode: number }).mode & 0o2000) node.setgid = true;
  yield* c.absorb(node, { meta: key }, (p) => p.meta(key, kept), e.seq);
}

/**
 * Nothing is at loc in the output either: replay makes an entry there in place, taking its group from
 * the directory as it is then; held, it is made in place too, before any change of that (group.ts).
 */
function knownFree(at: Loc): boolean {
  return at.slot !== undefined && at.slot.node === undefined && at.slot.debt === undefined;
}

/** create, symlink, mknod: a new held non-directory, replacing what is there. */
function* place(c: Ctx, e: EventOf<'create' | 'symlink' | 'mknod'>, kind: Kind): Gen {
  const at = c.ns.locate(e.path);
  const o = at.slot?.node;
  if (o?.kind === 'dir') throw new Confusion('a directory is in the way');
  if (inStash(e.path)) throw new Confusion('nothing is made in the stash');
  if (kind !== 'file' && maySetgid(at.dir) && !knownFree(at) && !c.collecting) return yield* makeNow(c, c.ns.add(kind, 'new'), at, e);
  const debt = yield* c.vacate(at, 'nondir', e.seq);
  c.hold(c.ns.add(kind, 'new'), at, debt, e);
}

/** The table (STYLE.md §2): bookmarks and commits are the window's business (window.ts). */
export const coalesceHandlers: HandlerTable<Gen, Ctx> = {
  *mkdir(e, c) {
    const at = c.ns.locate(e.path);
    const o = at.slot?.node;
    if (o?.kind === 'dir') return yield* meta(c, e, 'mode', { type: 'chmod', path: '', mode: e.mode, ...stampOf(e) });
    if (o?.kind === 'unknown') throw new Confusion('mkdir over an entry of unknown type');
    if (inStash(e.path)) throw new Confusion('nothing is made in the stash');
    // Never seen: mkdir keeps a directory that is there, with what is in it; so it goes as it is.
    if (at.slot === undefined) return yield* makeNow(c, c.ns.add('dir', 'pre'), at, e);
    const node = c.ns.add('dir', 'new');
    node.setgid = (e.mode & 0o2000) !== 0;
    if (maySetgid(at.dir) && !knownFree(at) && !c.collecting) return yield* makeNow(c, node, at, e);
    const debt = yield* c.vacate(at, 'dir', e.seq);
    c.hold(node, at, debt, e);
  },
  create: (e, c) => place(c, e, 'file'),
  symlink: (e, c) => place(c, e, 'symlink'),
  mknod: (e, c) => place(c, e, 'special'),
  *link(e, c) {
    const t = c.ns.nodeAt(e.target, 'nondir');
    t.become('nondir');
    if (t.kind === 'dir') throw new Confusion('the target is a directory');
    const at = c.ns.locate(e.path);
    const o = at.slot?.node;
    if (o === t) return;
    if (o?.kind === 'dir') throw new Confusion('a directory is in the way');
    if (t.held) {
      const debt = yield* c.vacate(at, 'nondir', e.seq);
      c.ns.attach(t, at, debt);
      return;
    }
    c.emitting();
    yield* c.prepareKept(at, e.seq);
    yield e;
    c.ns.attach(t, at);
  },
  *rename(e, c) {
    if (e.exchange === true) throw new Confusion('rename with exchange');
    const s = c.ns.nodeAt(e.path, 'unknown');
    const src = c.ns.locate(e.path);
    const dst = c.ns.locate(e.to);
    const o = dst.slot?.node;
    if (o === s) return; // the same file (or two links of it): rename does nothing
    if (s.kind === 'dir' && c.ns.within(dst.dir, s)) throw new Confusion('a directory into itself');
    if (o !== undefined) {
      if (e.noreplace === true) throw new Confusion('the destination exists (noreplace)');
      if (s.kind === 'unknown' && o.kind !== 'unknown') s.become(o.kind === 'dir' ? 'dir' : 'nondir');
      if (o.kind === 'unknown' && s.kind !== 'unknown') o.become(s.kind === 'dir' ? 'dir' : 'nondir');
      if ((s.kind === 'dir') !== (o.kind === 'dir') && s.kind !== 'unknown' && o.kind !== 'unknown') throw new Confusion('a directory and a non-directory');
      if (c.ns.hasEntries(o)) throw new Confusion('the destination directory is not empty');
    }
    // A file that existed before may have other names the window never saw: renamed onto one of
    // them, it stays where it was (rename does nothing). Its old name is then unknown, not free.
    const unsure = !s.held && s.aliasable && (o === undefined ? dst.slot === undefined : o.aliasable);
    if (unsure && src.dir.complete) throw new Confusion('a file renamed onto what may be another name of itself');
    // Nothing can be made or changed in the stash: what is held or pending there is emitted first.
    if (inStash(e.to) && !c.collecting) yield* c.flushTree(s, e.seq);
    if (s.inheritsGroup && src.dir !== dst.dir && !c.collecting) yield* c.materialize(s, e.seq); // made where it takes its group from
    if (s.held) {
      yield* c.leaveSlot(s, src, e.seq, true);
      const debt = yield* c.vacate(dst, s.kind === 'dir' ? 'dir' : 'nondir', e.seq);
      c.ns.attach(s, dst, debt);
      return;
    }
    c.emitting();
    const middle = middleOf(s, dst.slot);
    yield* c.prepareKept(dst, e.seq);
    yield marked(e, !unsure, middle);
    c.ns.detach(src);
    if (unsure) src.dir.children!.delete(src.name);
    c.ns.attach(s, dst);
  },
  *unlink(e, c) {
    yield* remove(c, e, 'nondir');
  },
  *rmdir(e, c) {
    yield* remove(c, e, 'dir');
  },
  write: (e, c) =>
    data(c, e, { range: [e.offset, e.offset + Math.max(0, e.data.length - 1)] }, (p, mark, id) => {
      const phase = p.writePhase(mark);
      if (e.data.length > 0) c.store.write(id, phase, e.offset, e.data);
    }),
  truncate: (e, c) =>
    data(c, e, { truncate: true }, (p, mark, id) => {
      p.endPhase(mark, { type: 'truncate', min: e.size, last: e.size, from: mark });
      c.store.cut(id, Math.ceil(e.size / CUT_ALIGN) * CUT_ALIGN);
    }),
  punch: (e, c) =>
    data(c, e, { range: [e.offset, e.offset + Math.max(0, e.length - 1)] }, (p, mark) => {
      p.endPhase(mark, { type: 'punch', path: '', offset: e.offset, length: e.length, ...stampOf(e) });
    }),
  chmod: (e, c) => meta(c, e, 'mode', { ...e, path: '' }),
  chown: (e, c) => meta(c, e, 'owner', { ...e, path: '' }),
  utimes: (e, c) => meta(c, e, 'times', { ...e, path: '' }),
  setxattr: (e, c) => meta(c, e, `x:${e.name}`, { ...e, path: '', value: Buffer.from(e.value) }),
  removexattr: (e, c) => meta(c, e, `x:${e.name}`, { ...e, path: '' }),
  *assert(e, c) {
    const node = fileAt(c, e.path);
    if (c.collecting) return; // the tree is emitted at its end, where this assertion may no longer hold
    yield* c.flush(node, e.seq);
    yield { ...e, hash: Buffer.from(e.hash) }; // held in the output batch past the next input batch
  },
  *note(e) {
    yield e;
  },
  *commit() {},
  *bookmark() {},
};

/** What the output has at a kept rename's destination after the entry moves on from it (chain.ts); undefined: not sure. */
function middleOf(s: MNode, slot: Slot | undefined): Middle | undefined {
  const o = slot?.node;
  if (slot !== undefined && slot.debt === undefined && (o === undefined || o.held)) return 'free';
  if (s.kind === 'dir' && (o === undefined || (!o.held && o.kind === 'dir'))) return 'maybe-dir';
  return undefined;
}

/** unlink, rmdir: a held entry goes quietly (its debt cleared); a kept one is removed as the input says. */
function* remove(c: Ctx, e: EventOf<'unlink' | 'rmdir'>, kind: 'dir' | 'nondir'): Gen {
  const at = c.ns.locate(e.path);
  if (at.slot === undefined) {
    c.emitting();
    yield e; // never seen: whatever was there goes (nothing, if nothing was)
    at.dir.children!.set(at.name, {});
    return;
  }
  const o = at.slot.node;
  if (o === undefined) return; // known absent: replay does nothing
  o.become(kind);
  if ((o.kind === 'dir') !== (kind === 'dir')) throw new Confusion(kind === 'dir' ? 'not a directory' : 'a directory');
  if (c.ns.hasEntries(o)) throw new Confusion('the directory is not empty');
  if (o.held) return yield* c.leaveSlot(o, at, e.seq);
  c.emitting();
  if (kind === 'nondir') yield* c.loseName(o, at, e.seq);
  else {
    c.ns.detach(at);
    c.die(o);
  }
  yield e;
}
