// Polling for a condition in tests that watch real processes and mounts.

/** Waits until cond() holds, polling; throws after timeoutMs naming what was awaited. */
export async function until(cond: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
