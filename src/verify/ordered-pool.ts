// Bounded concurrency with a deterministic order: up to `limit` tasks run at once, results are handed
// over strictly in submission order, and at most `maxQueued` results wait behind a slow task.
interface Slot<T> {
  settled: boolean;
  value?: T;
  error?: unknown;
  failed?: boolean;
}

/** Runs tasks in parallel but delivers their results in order; why: fast verify, stable output. */
export class OrderedPool<T> {
  private readonly queue: Slot<T>[] = [];
  private running = 0;
  private waiters: (() => void)[] = [];

  constructor(
    private readonly limit: number,
    private readonly maxQueued: number,
    private readonly deliver: (value: T) => void | Promise<void>,
  ) {}

  /** Queues a result already known; delivered after everything submitted before it. */
  async add(value: T): Promise<void> {
    this.queue.push({ settled: true, value });
    await this.makeRoom();
  }

  /** Starts a task now, then waits while too many run or too many results wait. Task errors surface in order. */
  async run(task: () => Promise<T>): Promise<void> {
    const slot: Slot<T> = { settled: false };
    this.queue.push(slot);
    this.running++;
    task().then(
      (value) => this.settle(slot, { value }),
      (error: unknown) => this.settle(slot, { error, failed: true }),
    );
    await this.makeRoom();
  }

  /** Waits for every task and delivers every remaining result. */
  async drain(): Promise<void> {
    await this.flush();
    while (this.queue.length > 0) {
      await this.changed();
      await this.flush();
    }
  }

  private settle(slot: Slot<T>, result: Partial<Slot<T>>): void {
    Object.assign(slot, result, { settled: true });
    this.running--;
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private changed(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private async makeRoom(): Promise<void> {
    await this.flush();
    while (this.running >= this.limit || this.queue.length >= this.maxQueued) {
      await this.changed();
      await this.flush();
    }
  }

  private async flush(): Promise<void> {
    while (this.queue.length > 0 && this.queue[0]!.settled) {
      const slot = this.queue.shift()!;
      if (slot.failed) throw slot.error;
      await this.deliver(slot.value as T);
    }
  }
}
