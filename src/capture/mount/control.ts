// The capture side of the control socket's requests: pause/resume bound to a holder with a
// deadline, bookmarks at the exact cut, status, reconfigure. Ordering comes from the layer: each
// action sends a command and completes when the layer's mark record comes back through the same
// pipe as the mutations, i.e. after every record written before it.
import type { ControlStatus } from '../../control/protocol.js';
import type { EventInput } from '../../stream/events.js';
import type { FilterRule } from '../filter.js';
import { RillError } from '../../errors.js';

/** What the capture loop gives the controller. */
export interface CaptureCore {
  /** Sends P/R/F to the layer; `then` runs in the record loop when its mark arrives (before any later record). */
  command(cmd: 'P' | 'R' | 'F', then: () => void | Promise<void>): void;
  /** Emits an event now (from inside a `then`), returning its seq. */
  emit(e: EventInput): Promise<number>;
  /** Replaces the filter (from inside a `then`) and emits the newly included entries. */
  refilter(rules: FilterRule[]): Promise<void>;
  status(): Omit<ControlStatus, 'protocol' | 'paused'>;
}

/** Who holds a pause: a connection id. */
export type Holder = number;

/** Why: one place owns the pause state, so a bookmark inside a pause and a deadline never fight. */
export class Controller {
  private holder: Holder | undefined;
  /** The layer is paused for a bookmark or reconfigure of a client that holds no pause: resumed right after its reply. */
  private transient = false;
  private deadline: NodeJS.Timeout | undefined;
  private deadlineAt = 0;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly core: CaptureCore, private readonly log: (line: string) => void) {}

  get paused(): boolean {
    return this.holder !== undefined;
  }

  /** Requests run one at a time, in arrival order. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  private layer(cmd: 'P' | 'R' | 'F', then: () => void | Promise<void> = () => {}): Promise<void> {
    return new Promise((resolve, reject) => {
      this.core.command(cmd, async () => {
        try {
          await then();
          resolve();
        } catch (err) {
          reject(err);
        }
      });
    });
  }

  pause(holder: Holder, timeoutMs: number): Promise<{ seq: number; deadline: string }> {
    return this.serial(async () => {
      if (this.holder !== undefined && this.holder !== holder) throw new RillError('busy', 'the capture is already paused by another client');
      // A pause is a quiescent point: a commit there makes replay apply what it defers to commits
      // (directories' times and modes), so the replica is identical while paused.
      if (this.holder === undefined && !this.transient) await this.layer('P', async () => void (await this.core.emit({ type: 'commit' })));
      this.transient = false;
      this.holder = holder;
      clearTimeout(this.deadline);
      this.deadlineAt = Date.now() + timeoutMs;
      this.deadline = setTimeout(() => {
        this.log(`pause deadline (${timeoutMs} ms) passed: resuming mutations`);
        void this.release(holder);
      }, timeoutMs);
      return { seq: this.core.status().seq, deadline: new Date(this.deadlineAt).toISOString() };
    });
  }

  resume(holder: Holder): Promise<{ seq: number }> {
    return this.serial(async () => {
      if (this.holder !== undefined && this.holder !== holder) throw new RillError('busy', 'the capture is paused by another client; only it (or its deadline) resumes');
      await this.releaseNow();
      return { seq: this.core.status().seq };
    });
  }

  /** The holder is gone (its connection closed) or its deadline passed: resume if it still holds the pause. */
  release(holder: Holder): Promise<void> {
    return this.serial(async () => {
      if (this.holder === holder) await this.releaseNow();
    });
  }

  private async releaseNow(): Promise<void> {
    if (this.holder === undefined && !this.transient) return;
    clearTimeout(this.deadline);
    this.holder = undefined;
    this.transient = false;
    await this.layer('R');
  }

  /** A bookmark at the cut: with no mutation in flight, after every recorded one, before any later one. */
  bookmark(holder: Holder, name: string, consistent: boolean): Promise<{ seq: number }> {
    return this.serial(async () => ({ seq: await this.atCut(holder, () => this.core.emit({ type: 'bookmark', name, wall: BigInt(Date.now()) * 1_000_000n, consistent })) }));
  }

  reconfigure(holder: Holder, rules: FilterRule[]): Promise<{ seq: number }> {
    return this.serial(async () => {
      await this.atCut(holder, () => this.core.refilter(rules));
      return { seq: this.core.status().seq };
    });
  }

  /**
   * Runs fn while mutations are held: inside the caller's own pause, or a pause of its own that ends
   * only after the reply went out (so no mutation returns between the cut and the reply).
   */
  private async atCut<T>(holder: Holder, fn: () => Promise<T>): Promise<T> {
    if (this.holder !== undefined && this.holder !== holder) throw new RillError('busy', 'the capture is paused by another client');
    let out: T | undefined;
    if (this.holder === undefined && !this.transient) {
      await this.layer('P', async () => {
        out = await fn();
      });
      this.transient = true;
      setImmediate(() => {
        void this.serial(async () => {
          if (this.transient && this.holder === undefined) await this.releaseNow();
        });
      });
    } else {
      await this.layer('F', async () => {
        out = await fn();
      });
    }
    return out as T;
  }

  /** Runs fn with mutations held (e.g. --scan-first's initial copy), before any request that comes after. */
  atomically<T>(fn: () => Promise<T>): Promise<T> {
    return this.serial(() => this.atCut(-1, fn));
  }

  /** Stops the deadline timer (the capture is ending). */
  close(): void {
    clearTimeout(this.deadline);
  }
}
