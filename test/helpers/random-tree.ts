// fast-check arbitrary for whole trees, described as data (test/helpers/tree.ts specs).
import fc from 'fast-check';
import type { EntrySpec, MetaSpec } from './tree.js';
import { nameArb } from './arbitrary.js';

export interface TreeCase { entries: EntrySpec[]; meta: MetaSpec[] }

const contentArb = fc.oneof(
  fc.constant(Buffer.alloc(0)),
  fc.uint8Array({ minLength: 1, maxLength: 5000 }).map((a) => Buffer.from(a)),
  fc.integer({ min: 1, max: 300_000 }).map((n) => Buffer.alloc(n, n % 251)),
);

const fileArb = fc.record({
  content: contentArb,
  sparse: fc.option(fc.record({ hole: fc.integer({ min: 1, max: 3 }).map((k) => k * 65536), tail: fc.boolean() }), { nil: undefined }),
  mode: fc.constantFrom(0o644, 0o600, 0o755, 0o444, 0o4755, 0o2750, 0o000),
});

const kindArb = fc.oneof(
  { weight: 5, arbitrary: fileArb.map((f) => ({ kind: 'file' as const, ...f })) },
  { weight: 2, arbitrary: fc.constant({ kind: 'dir' as const }) },
  { weight: 1, arbitrary: fc.oneof(fc.constant('/etc/passwd'), fc.constant('../x'), nameArb).map((t) => ({ kind: 'symlink' as const, target: t })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'link' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'fifo' as const }) },
);

const metaArb = fc.record({
  uid: fc.constantFrom(0, 1000, 65534),
  gid: fc.constantFrom(0, 100, 65534),
  mtime: fc.bigInt({ min: 0n, max: 2_000_000_000n * 1_000_000_000n }),
  xattr: fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: undefined }),
});

/** A random tree of up to ~30 entries, at most 3 levels deep, with metadata on every entry. */
export const treeArb: fc.Arbitrary<TreeCase> = fc
  .array(fc.tuple(fc.nat({ max: 20 }), nameArb, kindArb, metaArb), { maxLength: 30 })
  .map((items) => {
    const entries: EntrySpec[] = [];
    const meta: MetaSpec[] = [];
    const dirs = [''];
    const files: string[] = [];
    const taken = new Set<string>();
    for (const [pick, name, kind, m] of items) {
      const parent = dirs[pick % dirs.length]!;
      if (parent.split('/').length >= 3) continue;
      const path = parent === '' ? name : `${parent}/${name}`;
      if (taken.has(path)) continue;
      taken.add(path);
      switch (kind.kind) {
        case 'dir':
          entries.push({ type: 'dir', path });
          dirs.push(path);
          break;
        case 'file': {
          const extents = kind.sparse ? [{ offset: kind.sparse.hole, data: kind.content.length ? kind.content : Buffer.from('x') }] : undefined;
          const size = kind.sparse?.tail ? (kind.sparse.hole + kind.content.length + 131072) : undefined;
          entries.push(kind.sparse ? { type: 'file', path, extents, size, mode: kind.mode } : { type: 'file', path, content: kind.content, mode: kind.mode });
          files.push(path);
          break;
        }
        case 'symlink':
          entries.push({ type: 'symlink', path, target: kind.target });
          break;
        case 'link':
          if (files.length === 0) continue;
          entries.push({ type: 'link', path, target: files[pick % files.length]! });
          continue; // shares the target's metadata
        case 'fifo':
          entries.push({ type: 'fifo', path });
          break;
      }
      const xattrs = m.xattr !== undefined && (kind.kind === 'file' || kind.kind === 'dir') ? { 'user.test': m.xattr } : undefined;
      meta.push({ path, uid: m.uid, gid: m.gid, mtime: m.mtime, atime: m.mtime, xattrs });
    }
    // Directory metadata last, deepest first, as children change their directory's mtime.
    meta.sort((a, b) => b.path.split('/').length - a.path.split('/').length);
    return { entries, meta };
  });
