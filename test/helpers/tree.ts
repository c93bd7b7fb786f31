// Trees described as data, made on disk for tests; plus temporary directories that clean up.
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, symlinkSync, linkSync, openSync, writeSync, closeSync, ftruncateSync, chmodSync, lchownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sys } from '../../src/sys/native.js';
import { fsPath } from '../../src/stream/path.js';

export type EntrySpec =
  | { type: 'dir'; path: string; mode?: number }
  | {
      type: 'file';
      path: string;
      /** Content; a string is UTF-8. */
      content?: string | Buffer;
      /** Sparse layout: data extents at offsets, file extended to size with holes elsewhere. */
      extents?: { offset: number; data: Buffer }[];
      size?: number;
      mode?: number;
    }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'link'; path: string; target: string }
  | { type: 'fifo'; path: string; mode?: number }
  | { type: 'chardev'; path: string; rdev: number; mode?: number };

export interface MetaSpec {
  path: string;
  uid?: number;
  gid?: number;
  /** ns since epoch */
  mtime?: bigint;
  atime?: bigint;
  xattrs?: Record<string, Buffer | string>;
}

/** Paths in specs are relative Path strings (lone surrogates U+DC80.. stand for non-UTF-8 bytes). */
export function abs(root: string, p: string): string | Buffer {
  return fsPath(p === '' ? root : `${root}/${p}`);
}

/** Creates the entries in order (parents first), then applies metadata (xattrs, owner, times). */
export function makeTree(root: string, entries: EntrySpec[], meta: MetaSpec[] = []): void {
  mkdirSync(root, { recursive: true });
  const modes = new Map<string, number>();
  for (const e of entries) {
    const p = abs(root, e.path);
    switch (e.type) {
      case 'dir':
        mkdirSync(p);
        if (e.mode !== undefined) chmodSync(p, e.mode);
        if (e.mode !== undefined) modes.set(e.path, e.mode);
        break;
      case 'file': {
        const fd = openSync(p, 'w', 0o600);
        try {
          if (e.content !== undefined) writeSync(fd, typeof e.content === 'string' ? Buffer.from(e.content) : e.content);
          for (const x of e.extents ?? []) writeSync(fd, x.data, 0, x.data.length, x.offset);
          if (e.size !== undefined) ftruncateSync(fd, e.size);
        } finally {
          closeSync(fd);
        }
        chmodSync(p, e.mode ?? 0o644);
        modes.set(e.path, e.mode ?? 0o644);
        break;
      }
      case 'symlink':
        symlinkSync(fsPath(e.target), p);
        break;
      case 'link':
        linkSync(abs(root, e.target), p);
        break;
      case 'fifo':
        sys.mknod(p, 0o010000 | (e.mode ?? 0o644), 0);
        break;
      case 'chardev':
        sys.mknod(p, 0o020000 | (e.mode ?? 0o644), e.rdev);
        break;
    }
  }
  for (const m of meta) {
    const p = abs(root, m.path);
    for (const [name, value] of Object.entries(m.xattrs ?? {})) sys.setXattr(p, name, Buffer.from(value));
    if (m.uid !== undefined || m.gid !== undefined) {
      lchownSync(p, m.uid ?? 0, m.gid ?? 0);
      // chown clears set-id bits: give the entry the mode its spec asked for.
      const mode = modes.get(m.path);
      if (mode !== undefined && (mode & 0o6000) !== 0) chmodSync(p, mode);
    }
    if (m.mtime !== undefined || m.atime !== undefined) {
      const t = m.mtime ?? m.atime!;
      sys.utimens(p, m.atime ?? t, m.mtime ?? t);
    }
  }
}

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir(prefix = 'rill-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(process.env.RILL_TEST_TMP ?? tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const isRoot = process.getuid?.() === 0;

/** Skips a test when a capability is missing; under CI=true a missing capability fails instead. */
export function requireCapability(t: { skip: (msg: string) => void }, ok: boolean, what: string): boolean {
  if (ok) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but this machine lacks ${what}: the test cannot be skipped in CI`);
  t.skip(`needs ${what}`);
  return false;
}
