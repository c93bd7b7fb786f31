// Shared pieces of the ship tests: a source tree, seq lists of streams and journals, a ship run in the background.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { makeTree, type EntrySpec } from '../helpers/tree.js';
import { prng } from '../helpers/prng.js';
import { rill, RILL } from '../helpers/cli.js';

/** A tree of about `mib` MiB in files of mixed sizes, compressible text and incompressible bytes. */
export function makeSource(root: string, mib = 4): void {
  const entries: EntrySpec[] = [{ type: 'dir', path: 'd', mode: 0o755 }, { type: 'dir', path: 'd/e', mode: 0o700 }];
  let bytes = 0;
  for (let i = 0; bytes < mib * 1048576; i++) {
    const size = [100, 5000, 70_000, 300_000][i % 4]!;
    const content = i % 2 === 0 ? Buffer.from(`line ${i} of some text that compresses well\n`.repeat(Math.ceil(size / 40))).subarray(0, size) : randomBytes(size, i);
    entries.push({ type: 'file', path: `${i % 3 === 0 ? 'd/e/' : i % 3 === 1 ? 'd/' : ''}f${i}`, content });
    bytes += size;
  }
  entries.push({ type: 'symlink', path: 'd/link', target: 'e/f0' });
  makeTree(root, entries);
}

function randomBytes(n: number, seed: number): Buffer {
  return prng((seed * 2654435761) >>> 0)(n);
}

/** The seqs of every event in these stream files, in order (rill dump). */
export function seqsOf(files: string[]): number[] {
  const r = rill(['dump', ...files]);
  if (r.code !== 0) throw new Error(`rill dump failed: ${r.stderr}`);
  return r.stdout
    .toString()
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as { type: string; seq?: number })
    .filter((r) => r.type !== 'header' && r.type !== 'end')
    .map((r) => r.seq!);
}

/** A journal directory's segment files, in order. */
export function segments(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.endsWith('.rill'))
    .sort()
    .map((n) => join(dir, n));
}

/** bin/rill in the background, its stderr collected. */
export function background(args: string[], stdin: 'ignore' | 'pipe' | number = 'ignore', env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; stderr: () => string; exit: Promise<number> } {
  const child = spawn(RILL, args, { stdio: [stdin, 'pipe', 'pipe'], env });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => (err += b.toString()));
  child.stdout!.resume();
  const exit = new Promise<number>((resolve) => child.once('exit', (code, sig) => resolve(code ?? (sig === 'SIGKILL' ? 137 : 128))));
  return { child, stderr: () => err, exit };
}

export { until } from '../helpers/wait.js';

/** A shell command line running this checkout's rill (for --to). */
export function rillLine(args: string): string {
  return `${process.execPath} ${RILL} ${args}`;
}
