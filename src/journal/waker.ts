// A journal reader that follows the writer of the same process need not poll: the writer wakes it
// when frames go out, and the poll interval remains only the fallback for writers elsewhere.

/** Why: one wake-up call from the writer releases every reader waiting at the end of the data. */
export class Waker {
  private waiters = new Set<() => void>();

  /** Releases every current waiter. */
  wake(): void {
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** Resolves at the next wake(), after ms, or at once when the signal aborts; false when aborted. */
  wait(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
    if (signal?.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve(!signal?.aborted);
      };
      const timer = setTimeout(done, ms);
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
