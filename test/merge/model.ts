// A model of a tree for generating event sequences replay accepts: entries by path, files by inode,
// with replay's semantics for the operations the generator uses (rename of a directory moves its
// entries, rename between two names of one file does nothing, a replaced name loses its inode).
import type { EntrySpec } from '../helpers/tree.js';

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo';

export class TreeModel {
  /** path → inode ('' is the root). */
  readonly paths = new Map<string, number>();
  /** inode → its type. */
  readonly types = new Map<number, EntryType>();
  private nextIno = 1;

  constructor(entries: EntrySpec[]) {
    this.paths.set('', this.newInode('dir'));
    for (const e of entries) {
      if (e.type === 'link') this.paths.set(e.path, this.paths.get(e.target)!);
      else this.paths.set(e.path, this.newInode(e.type === 'chardev' ? 'fifo' : e.type));
    }
  }

  newInode(type: EntryType): number {
    const ino = this.nextIno++;
    this.types.set(ino, type);
    return ino;
  }

  typeAt(path: string): EntryType | undefined {
    const ino = this.paths.get(path);
    return ino === undefined ? undefined : this.types.get(ino);
  }

  /** Entries (not the root, not in rill's stash), sorted for determinism. */
  list(filter: (type: EntryType, path: string) => boolean = () => true): string[] {
    return [...this.paths.keys()].filter((p) => p !== '' && !p.startsWith('.rill/') && filter(this.typeAt(p)!, p)).sort();
  }

  /** Directories, the root included. */
  dirs(): string[] {
    return ['', ...this.list((t) => t === 'dir')];
  }

  children(dir: string): string[] {
    const prefix = dir === '' ? '' : `${dir}/`;
    return [...this.paths.keys()].filter((p) => p !== dir && p.startsWith(prefix) && !p.slice(prefix.length).includes('/'));
  }

  /** Removes path (and, for a directory, everything below it, which the caller made sure is empty). */
  remove(path: string): void {
    this.paths.delete(path);
  }

  /** Puts inode at path, replacing a non-directory (or an empty directory) there. */
  put(path: string, ino: number): void {
    this.paths.set(path, ino);
  }

  /** rename(2): a directory moves with its entries; two names of one inode: nothing happens. */
  rename(from: string, to: string): void {
    const ino = this.paths.get(from)!;
    if (this.paths.get(to) === ino) return;
    const moved: [string, number][] = [];
    for (const [p, i] of this.paths) if (p === from || p.startsWith(`${from}/`)) moved.push([p, i]);
    for (const [p] of moved) this.paths.delete(p);
    this.paths.delete(to);
    for (const [p, i] of moved) this.paths.set(to + p.slice(from.length), i);
  }

  /** True when to is from or below it. */
  static inside(to: string, from: string): boolean {
    return to === from || to.startsWith(`${from}/`);
  }
}
