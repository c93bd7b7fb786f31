// The namespace model of one window: files known by identity, not by path. Each node is one file
// (inode) seen in the window; directories hold slots (name -> node, or known absent). Renames move a
// slot, hard links add one, so a file keeps its identity (and its coalesced changes) across both.
// Entries the window did not make are "pre": their other names, outside what the window saw, are
// unknown. Entries it made are "new": every name is known; until emitted they are "held".
import { RillError } from '../errors.js';
import type { Event } from '../stream/events.js';
import { joinPath, showPath } from '../stream/path.js';
import type { Pending } from './pending.js';

/** What a node is, as far as the window knows. */
export type Kind = 'dir' | 'file' | 'symlink' | 'special' | 'nondir' | 'unknown';

/**
 * What the output may still have at a slot whose held occupant replaced it in the input (what making
 * the occupant there replaces too): a non-directory, cleared with unlink; an empty directory, rmdir.
 */
export type Debt = 'nondir' | 'emptydir';

/** A name in a directory: its occupant (undefined: known absent) and what the output still has there. */
export interface Slot {
  node?: MNode;
  debt?: Debt;
}

/** A name of a node. */
export interface Name {
  dir: MNode;
  name: string;
}

/** One file (inode) of the window. */
export class MNode {
  names: Name[] = [];
  /** Directories: the names seen in it. */
  children: Map<string, Slot> | undefined;
  /** Made in the window and not yet emitted: the event that makes it (mkdir, create, symlink, mknod). */
  make: Event | undefined;
  /** A directory made in the window whose mode had the set-group-ID bit. */
  setgid = false;
  /** Changes to emit (data, metadata), coalesced. */
  pending: Pending | undefined;

  constructor(
    readonly id: number,
    public kind: Kind,
    /** pre: existed before the window (names outside it unknown); new: made in it. */
    readonly origin: 'pre' | 'new',
    /** Every child of this directory is known (a new directory; the root of a full stream). */
    readonly complete = origin === 'new',
  ) {
    if (kind === 'dir') this.children = new Map();
  }

  /** Learns what a node of unknown kind is (a directory gets its table of names). */
  become(kind: Kind): void {
    if (this.kind !== 'unknown' && this.kind !== 'nondir') return;
    if (this.kind === 'nondir' && kind === 'dir') return;
    this.kind = kind;
    if (kind === 'dir') this.children = new Map();
  }

  /** Not yet emitted. */
  get held(): boolean {
    return this.make !== undefined;
  }

  /** Held, made in place by replay (not a regular file: those are made in .rill/tmp), and not chowned since. */
  get inheritsGroup(): boolean {
    return this.held && this.kind !== 'file' && this.pending?.slots.has('owner') !== true;
  }

  /** A file that may have names the window does not know (so may alias another pre file). */
  get aliasable(): boolean {
    return this.origin === 'pre' && this.kind !== 'dir';
  }
}

/** The input does something replay would refuse, or the model cannot follow: the caller falls back. */
export class Confusion extends Error {}

/** Where a path leads: its directory, its last name, and the slot there (undefined: never seen). */
export interface Loc {
  dir: MNode;
  name: string;
  slot: Slot | undefined;
}

/** The model: nodes by identity, from the root. */
export class Namespace {
  readonly root: MNode;
  private nextId = 1;
  /** Nodes made in the window and not yet emitted, in order of making. */
  readonly held = new Set<MNode>();
  /** Nodes with changes to emit, by id, in order of their first change. */
  readonly changed = new Map<number, MNode>();
  /** Nodes made so far (the memory the model takes grows with it). */
  made = 0;

  /** `rootKind` file: a volume; `complete`: the root's entries are all known (a full stream's). */
  constructor(rootKind: 'dir' | 'file', complete: boolean) {
    this.root = new MNode(0, rootKind, 'pre', complete);
    if (rootKind === 'dir' && complete) {
      // rill's own directory: the stash is empty where a full stream starts.
      const rill = this.add('dir', 'pre', true);
      this.attach(rill, { dir: this.root, name: '.rill' });
      this.attach(this.add('dir', 'pre', true), { dir: rill, name: 'stash' });
    }
  }

  /** A new node (not attached). */
  add(kind: Kind, origin: 'pre' | 'new', complete = origin === 'new'): MNode {
    this.made++;
    return new MNode(this.nextId++, kind, origin, complete);
  }

  /** The path of a node now ('' for the root): its first name outside rill's stash, where there is one. */
  pathOf(node: MNode): string {
    let stashed = '';
    for (const n of node.names) {
      const p = joinPath(this.pathOf(n.dir), n.name);
      if (!p.startsWith('.rill/')) return p;
      stashed ||= p;
    }
    return stashed;
  }

  /** The path of a slot. */
  slotPath(loc: { dir: MNode; name: string }): string {
    return joinPath(this.pathOf(loc.dir), loc.name);
  }

  /** Resolves path to its directory and last name; directories never seen below a pre one are added as pre. */
  locate(path: string): Loc {
    if (path === '') throw new Confusion('the root has no name');
    const parts = path.split('/');
    let dir = this.root;
    for (let i = 0; i < parts.length - 1; i++) dir = this.subdir(dir, parts[i]!, path);
    const name = parts[parts.length - 1]!;
    return { dir, name, slot: this.slotIn(dir, name) };
  }

  /** The node at path; one never seen below a pre directory is added as pre of kind `kind`. */
  nodeAt(path: string, kind: Kind): MNode {
    if (path === '') return this.root;
    const at = this.locate(path);
    if (at.slot !== undefined) {
      if (at.slot.node === undefined) throw new Confusion(`${showPath(path)} does not exist`);
      return at.slot.node;
    }
    const node = this.add(kind, 'pre');
    this.attach(node, at);
    return node;
  }

  /** Gives node the name at loc (whatever was there must have been detached). */
  attach(node: MNode, loc: { dir: MNode; name: string }, debt?: Debt): void {
    const slot: Slot = { node };
    if (debt !== undefined) slot.debt = debt;
    loc.dir.children!.set(loc.name, slot);
    node.names.push({ dir: loc.dir, name: loc.name });
  }

  /** Takes the name at loc from its node; the slot becomes known absent (its debt stays). */
  detach(loc: { dir: MNode; name: string }): MNode | undefined {
    const slot = loc.dir.children!.get(loc.name);
    const node = slot?.node;
    if (slot === undefined || node === undefined) return undefined;
    slot.node = undefined;
    const i = node.names.findIndex((n) => n.dir === loc.dir && n.name === loc.name);
    if (i >= 0) node.names.splice(i, 1);
    return node;
  }

  /** True when dir (or a directory below it) is `node`: moving node there would loop. */
  within(dir: MNode, node: MNode): boolean {
    for (let d: MNode | undefined = dir; d !== undefined; d = d.names[0]?.dir) if (d === node) return true;
    return false;
  }

  /** True when a directory has an entry now (so rmdir would fail). */
  hasEntries(dir: MNode): boolean {
    for (const slot of dir.children?.values() ?? []) if (slot.node !== undefined) return true;
    return false;
  }

  private slotIn(dir: MNode, name: string): Slot | undefined {
    const slot = dir.children!.get(name);
    if (slot !== undefined || !dir.complete) return slot;
    const absent: Slot = {};
    dir.children!.set(name, absent);
    return absent;
  }

  private subdir(dir: MNode, name: string, path: string): MNode {
    const slot = this.slotIn(dir, name);
    if (slot === undefined) {
      const node = this.add('dir', 'pre');
      this.attach(node, { dir, name });
      return node;
    }
    const node = slot.node;
    if (node === undefined) throw new Confusion(`a directory of ${showPath(path)} does not exist`);
    node.become('dir');
    if (node.kind !== 'dir') throw new Confusion(`a directory of ${showPath(path)} is not a directory`);
    return node;
  }
}

/** The error for input a full stream's merge cannot follow (it cannot fall back to emitting it as it is). */
export function unfollowable(e: Event, why: string): RillError {
  const path = 'path' in e && typeof e.path === 'string' ? ` ${showPath(e.path)}` : '';
  return new RillError('stream', `cannot merge ${e.type}${path} (seq ${e.seq}) into a full stream: ${why}`, {
    hint: 'replay the inputs one after the other instead (the input would not replay either, or does not fit the full stream before it)',
  });
}
