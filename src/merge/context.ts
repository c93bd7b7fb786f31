// What the coalescing handlers share: the window's model, its data, the alias index, and the moves
// that emit events: making a held node (materialize), emitting a node's coalesced changes (flush),
// clearing what the output still has where a held node replaced it (debts), and names lost.
import type { Event, RootKind } from '../stream/events.js';
import { AliasIndex, type Touch } from './alias.js';
import { Confusion, Namespace, type Debt, type Loc, type MNode, type Name } from './identity.js';
import { dirContext } from './group.js';
import { emitPending, Pending } from './pending.js';
import type { DataStore } from './store.js';

type Gen<R = void> = Generator<Event, R, undefined>;

/** The state of one window. */
export class Ctx {
  ns!: Namespace;
  alias!: AliasIndex;
  /** Merging a full stream: nothing may be emitted before its end (the caller emits the tree in scan order). */
  collecting = false;

  constructor(
    readonly store: DataStore,
    readonly kind: RootKind,
  ) {
    this.reset(false);
  }

  /** A new window: nothing known; `full` when a full stream starts it (its root's entries all known). */
  reset(full: boolean): void {
    this.store.reset();
    this.collecting = full && this.kind === 'tree';
    this.ns = new Namespace(this.kind === 'volume' ? 'file' : 'dir', this.collecting);
    this.alias = new AliasIndex();
  }

  /** Refuses to emit anything while collecting a full stream (the caller reports the input it cannot follow). */
  emitting(): void {
    if (this.collecting) throw new Confusion('it changes what the full stream did not make');
  }

  /** Makes a node to emit later at loc. */
  hold(node: MNode, loc: Loc, debt: Debt | undefined, make: Event): void {
    node.make = make;
    this.ns.attach(node, loc, debt);
    this.ns.held.add(node);
  }

  /** Emits a held node (its directories first): made at its first name, linked at the others. */
  *materialize(node: MNode, seq: number): Gen {
    if (!node.held) return;
    this.emitting();
    for (const n of node.names) yield* this.materialize(n.dir, seq);
    const make = node.make!;
    node.make = undefined;
    this.ns.held.delete(node);
    const [first, ...rest] = node.names as [Name, ...Name[]];
    if (node.kind !== 'file' && node.pending?.slots.has('owner') !== true) yield* dirContext(this, first.dir);
    const slot = first.dir.children!.get(first.name)!;
    const path = this.ns.slotPath(first);
    if (node.kind === 'dir' && slot.debt === 'emptydir') yield { type: 'rmdir', path, seq };
    slot.debt = undefined;
    yield { ...make, path } as Event;
    for (const n of rest) {
      n.dir.children!.get(n.name)!.debt = undefined;
      yield { type: 'link', path: this.ns.slotPath(n), target: path, seq };
    }
  }

  /** Emits a node's pending changes (making it first if held); nothing for a node without names. */
  *flush(node: MNode, seq: number): Gen {
    if (node.names.length === 0 && node !== this.ns.root) return;
    yield* this.materialize(node, seq);
    if (node.pending !== undefined) {
      this.emitting();
      yield* emitPending(node.id, node.pending, this.ns.pathOf(node), this.store);
    }
    this.forget(node);
  }

  /** Emits everything held and pending at or below node (before it moves where nothing can be emitted: the stash). */
  *flushTree(node: MNode, seq: number): Gen {
    const below = (n: MNode): boolean => n === node || n.names.some((x) => this.ns.within(x.dir, node));
    for (const n of [...this.ns.held, ...this.ns.changed.values()]) if (below(n)) yield* this.flush(n, seq);
  }

  /** Emits everything held and pending: the output then equals the input. */
  *flushAll(seq: number): Gen {
    for (const n of [...this.ns.held]) if (n.names.length > 0) yield* this.materialize(n, seq);
    for (const n of [...this.ns.changed.values()]) yield* this.flush(n, seq);
  }

  /** Absorbs an op on a node: first emitting what it conflicts with in other pre files (alias.ts). */
  *absorb(node: MNode, touch: Touch, apply: (p: Pending) => void, seq: number): Gen {
    if (node.aliasable) {
      for (const id of this.alias.conflicts(node.id, touch)) yield* this.flush(this.ns.changed.get(id)!, seq);
      this.alias.add(node.id, touch);
    }
    apply((node.pending ??= new Pending()));
    this.ns.changed.set(node.id, node);
  }

  /** Emits what clears a debt at loc (what the output has there that the input replaced). */
  *clear(loc: { dir: MNode; name: string }, debt: Debt, seq: number): Gen {
    this.emitting();
    const path = this.ns.slotPath(loc);
    yield debt === 'nondir' ? { type: 'unlink', path, seq } : { type: 'rmdir', path, seq };
  }

  /**
   * A kept node loses the name at loc. Its changes are emitted first when nothing could reach it
   * after: a pre file's last known name (it may have others), or the last name outside the stash.
   */
  *loseName(node: MNode, loc: Loc, seq: number): Gen {
    const others = node.names.filter((n) => n.dir !== loc.dir || n.name !== loc.name);
    const reachable = others.some((n) => !this.ns.slotPath(n).startsWith('.rill/'));
    if (!reachable && (others.length > 0 || (node.origin === 'pre' && node.kind !== 'dir'))) yield* this.flush(node, seq);
    this.ns.detach(loc);
    if (node.names.length === 0) this.die(node);
  }

  /** A held node leaves loc: its debt there is cleared; with no name left (and not `moving`) it is dropped. */
  *leaveSlot(node: MNode, loc: Loc, seq: number, moving = false): Gen {
    const slot = loc.slot!;
    this.ns.detach(loc);
    const debt = slot.debt;
    slot.debt = undefined;
    if (debt !== undefined) yield* this.clear(loc, debt, seq);
    if (node.names.length === 0 && !moving) this.die(node);
  }

  /**
   * A held node is about to take loc: what is there is displaced. Returns the debt the slot keeps
   * (what the output still has there, which making the newcomer there replaces).
   */
  *vacate(loc: Loc, incoming: 'nondir' | 'dir', seq: number): Gen<Debt | undefined> {
    const slot = loc.slot;
    if (slot === undefined) return incoming === 'dir' ? 'emptydir' : 'nondir';
    const o = slot.node;
    if (o === undefined) return undefined;
    if (o.held) {
      this.ns.detach(loc);
      if (o.names.length === 0) this.die(o);
      const debt = slot.debt;
      slot.debt = undefined;
      return debt;
    }
    yield* this.loseName(o, loc, seq);
    return incoming === 'dir' && o.kind === 'dir' ? 'emptydir' : 'nondir';
  }

  /** Before a kept op puts something at loc: its directories made, its debt cleared, its occupant displaced. */
  *prepareKept(loc: Loc, seq: number): Gen {
    yield* this.materialize(loc.dir, seq);
    const slot = loc.slot;
    if (slot?.debt !== undefined) {
      yield* this.clear(loc, slot.debt, seq);
      slot.debt = undefined;
    }
    const o = slot?.node;
    if (o === undefined) return;
    if (o.held) {
      this.ns.detach(loc);
      if (o.names.length === 0) this.die(o);
    } else yield* this.loseName(o, loc, seq);
  }

  /** A node is gone: its held make and pending changes are dropped. */
  die(node: MNode): void {
    node.make = undefined;
    this.ns.held.delete(node);
    this.forget(node);
  }

  private forget(node: MNode): void {
    node.pending = undefined;
    this.ns.changed.delete(node.id);
    this.store.drop(node.id);
    this.alias.remove(node.id);
  }
}

