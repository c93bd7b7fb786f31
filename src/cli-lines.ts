// Line output on stdout with backpressure, shared by the commands that print one line per item.
import { once } from 'node:events';

let pending = '';

/** Queues a line; awaits stdout's drain only when Node's buffer is full. */
export async function writeLine(line: string): Promise<void> {
  pending += line + '\n';
  if (pending.length < 64 * 1024) return;
  const chunk = pending;
  pending = '';
  if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
}

/** Writes what is queued. */
export async function endOutput(): Promise<void> {
  if (pending.length === 0) return;
  const chunk = pending;
  pending = '';
  if (!process.stdout.write(chunk)) await once(process.stdout, 'drain');
}
