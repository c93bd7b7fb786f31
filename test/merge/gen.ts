// Random event sequences that replay accepts, for the equivalence properties: every kind of event,
// chosen against a model of the tree (TreeModel), with overlapping writes, truncates, punches,
// renames over existing entries, hard links, the stash, and bookmarks. Before every bookmark and at
// the end every entry gets a utimes, so the trees compared do not depend on when replay ran.
import fc from 'fast-check';
import type { Event, EventInput } from '../../src/stream/events.js';
import type { TreeCase } from '../helpers/random-tree.js';
import { TreeModel } from './model.js';

const KINDS = [
  'create', 'create', 'write', 'write', 'write', 'write', 'truncate', 'punch', 'rename', 'rename', 'link', 'unlink', 'rmdir', 'mkdir',
  'mkdir', 'symlink', 'mknod', 'chmod', 'chown', 'utimes', 'setxattr', 'removexattr', 'bookmark', 'commit', 'note', 'stash', 'unstash',
  'rewrite', 'rewrite', 'rechain', 'rechain',
] as const;

/** One operation, its targets chosen by the numbers (against the tree as it is then). */
export interface Op {
  kind: (typeof KINDS)[number];
  a: number;
  b: number;
  c: number;
  n: number;
  byte: number;
}

/** An op of any kind; `writes` more writes (and a fifth as many creates) in the mix, to fill memory. */
export const opArbWith = (writes = 0): fc.Arbitrary<Op> =>
  fc.record({
    kind: fc.constantFrom(...KINDS, ...Array.from({ length: writes }, (_, i) => (i % 5 === 4 ? ('create' as const) : ('write' as const)))),
    a: fc.nat(),
    b: fc.nat(),
    c: fc.nat(),
    n: fc.nat({ max: 400_000 }),
    byte: fc.integer({ min: 0, max: 255 }),
  });
export const opArb = opArbWith();

const pick = <T>(list: T[], i: number): T | undefined => (list.length === 0 ? undefined : list[i % list.length]);
const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`);

/** The events for ops applied to the tree, numbered from seq `first`; `chownNew`: every entry made is chowned (as capture does). */
export function generate(tree: TreeCase, ops: Op[], o: { first?: number; chownNew?: boolean } = {}): Event[] {
  const m = new TreeModel(tree.entries);
  const out: EventInput[] = [];
  let fresh = 0;
  let stashed = 0;
  let bookmarks = 0;
  let t = 1_700_000_000_000_000_000n;
  let lastWrite: { path: string; offset: number; length: number } | undefined; // for 'rewrite': the same range again
  let lastRenamed: string | undefined; // for 'rechain': a → b, then b → c
  const normalize = (): void => {
    for (const p of ['', ...m.list()]) out.push({ type: 'utimes', path: p, atime: t, mtime: t + BigInt(p.length) });
    t += 1_000_000_000n;
  };
  /** A name in dir: a fresh one, or (when `reuse`) an existing entry accepted by `ok`. */
  const target = (dir: string, reuse: number, ok: (p: string) => boolean): string =>
    (reuse % 3 === 0 ? pick(m.children(dir).filter(ok).sort(), reuse) : undefined) ?? join(dir, `g${fresh++}`);
  const nonDir = (p: string): boolean => m.typeAt(p) !== 'dir';
  for (const op of ops) {
    const files = m.list((ty) => ty === 'file');
    const f = pick(files, op.a);
    const dir = pick(m.dirs(), op.b)!;
    switch (op.kind) {
      case 'create': {
        const p = target(dir, op.c, nonDir);
        out.push({ type: 'create', path: p, mode: [0o644, 0o600, 0o755, 0o4755, 0o444][op.n % 5]! });
        m.put(p, m.newInode('file'));
        break;
      }
      case 'write':
        if (f) out.push({ type: 'write', path: f, offset: op.n % 200_000, data: Buffer.alloc(1 + (op.c % 9000), op.byte) });
        if (f) lastWrite = { path: f, offset: op.n % 200_000, length: 1 + (op.c % 9000) };
        break;
      case 'rewrite':
        if (lastWrite !== undefined && m.typeAt(lastWrite.path) === 'file') out.push({ type: 'write', path: lastWrite.path, offset: lastWrite.offset, data: Buffer.alloc(lastWrite.length, op.byte) });
        break;
      case 'truncate':
        if (f) out.push({ type: 'truncate', path: f, size: op.n % 150_000 });
        break;
      case 'punch':
        if (f) out.push({ type: 'punch', path: f, offset: op.n % 200_000, length: 1 + (op.c % 70_000) });
        break;
      case 'rename':
      case 'rechain': {
        const again = op.kind === 'rechain' && lastRenamed !== undefined && m.paths.has(lastRenamed) ? lastRenamed : undefined;
        const src = again ?? pick(m.list(), op.a);
        if (src === undefined) break;
        const isDir = m.typeAt(src) === 'dir';
        const into = pick(m.dirs().filter((d) => !isDir || !TreeModel.inside(d, src)), op.b);
        if (into === undefined) break;
        const to = target(into, op.c, (p) => p !== src && (isDir ? m.typeAt(p) === 'dir' && m.children(p).length === 0 && !TreeModel.inside(p, src) : nonDir(p)));
        out.push({ type: 'rename', path: src, to });
        m.rename(src, to);
        lastRenamed = to;
        break;
      }
      case 'link': {
        const src = pick(m.list((ty) => ty !== 'dir'), op.a);
        if (src === undefined) break;
        const to = target(dir, op.c, nonDir);
        out.push({ type: 'link', path: to, target: src });
        m.put(to, m.paths.get(src)!);
        break;
      }
      case 'unlink': {
        const p = pick(m.list((ty) => ty !== 'dir'), op.a);
        if (p !== undefined) out.push({ type: 'unlink', path: p }), m.remove(p);
        break;
      }
      case 'rmdir': {
        const d = pick(m.list((ty, p) => ty === 'dir' && m.children(p).length === 0), op.a);
        if (d !== undefined) out.push({ type: 'rmdir', path: d }), m.remove(d);
        break;
      }
      case 'mkdir': {
        const p = target(dir, op.c, (q) => nonDir(q) || op.n % 2 === 0);
        out.push({ type: 'mkdir', path: p, mode: [0o755, 0o700, 0o750][op.n % 3]! });
        if (m.typeAt(p) !== 'dir') m.put(p, m.newInode('dir'));
        break;
      }
      case 'symlink':
      case 'mknod': {
        const p = target(dir, op.c, nonDir);
        if (op.kind === 'symlink') out.push({ type: 'symlink', path: p, target: `t${op.n % 7}` });
        else out.push({ type: 'mknod', path: p, mode: 0o010000 | 0o640, rdev: 0 });
        m.put(p, m.newInode(op.kind === 'symlink' ? 'symlink' : 'fifo'));
        break;
      }
      case 'chmod':
      case 'chown':
      case 'utimes': {
        const p = pick(['', ...m.list()], op.a)!;
        if (op.kind === 'chmod') out.push({ type: 'chmod', path: p, mode: op.n & 0o7777 });
        else if (op.kind === 'chown') out.push({ type: 'chown', path: p, uid: [0, 1000, 65534][op.b % 3]!, gid: [0, 100, 65534][op.c % 3]! });
        else out.push({ type: 'utimes', path: p, atime: BigInt(op.n) * 1000n, mtime: BigInt(op.n) * 997n });
        break;
      }
      case 'setxattr':
      case 'removexattr': {
        const p = pick(['', ...m.list((ty) => ty === 'file' || ty === 'dir')], op.a)!;
        const name = ['user.a', 'user.b'][op.b % 2]!;
        out.push(op.kind === 'setxattr' ? { type: 'setxattr', path: p, name, value: Buffer.alloc(op.n % 40, op.byte) } : { type: 'removexattr', path: p, name });
        break;
      }
      case 'bookmark':
        normalize();
        out.push({ type: 'bookmark', name: `bm-${bookmarks++}`, wall: t, consistent: true });
        break;
      case 'commit':
        out.push({ type: 'commit' });
        break;
      case 'note':
        out.push({ type: 'note', code: 'test', message: `note ${op.n}` });
        break;
      case 'stash': {
        const src = pick(m.list(), op.a);
        if (src === undefined) break;
        const to = `.rill/stash/s${stashed++}`;
        out.push({ type: 'rename', path: src, to });
        m.rename(src, to);
        break;
      }
      case 'unstash': {
        const s = pick([...m.paths.keys()].filter((p) => /^\.rill\/stash\/[^/]+$/.test(p)).sort(), op.a);
        if (s !== undefined) out.push(unstash(m, s, join(dir, `g${fresh++}`)));
        break;
      }
    }
  }
  for (const s of [...m.paths.keys()].filter((p) => /^\.rill\/stash\/[^/]+$/.test(p)).sort()) out.push(unstash(m, s, `g${fresh++}`));
  normalize();
  if (o.chownNew === true) {
    for (let i = out.length - 1; i >= 0; i--) {
      const e = out[i]!;
      if (e.type === 'create' || e.type === 'mkdir' || e.type === 'symlink' || e.type === 'mknod') out.splice(i + 1, 0, { type: 'chown', path: e.path, uid: 1000 + (i % 3), gid: 100 + (i % 2) });
    }
  }
  return out.map((e, i) => ({ ...e, seq: i + (o.first ?? 1) }) as Event);
}

function unstash(m: TreeModel, from: string, to: string): EventInput {
  m.rename(from, to);
  return { type: 'rename', path: from, to };
}
