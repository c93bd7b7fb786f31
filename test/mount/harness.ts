// Runs `rill capture --mount ROOT | rill replay REPLICA` as a user would, waits for the mount to
// serve, stops it with a signal, and always leaves no mount behind (tests call cleanup in finally).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RILL } from '../helpers/cli.js';
import { isRoot, requireCapability, tempDir } from '../helpers/tree.js';

export const FUSE_BIN = fileURLToPath(new URL('../../native/fuse/build/rill-fuse', import.meta.url));

function usable(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** True when the mount tests can run: root, /dev/fuse, the built layer. Skips (fails under CI=true) otherwise. */
export function requireFuse(t: { skip: (msg: string) => void }): boolean {
  return requireCapability(t, isRoot && usable('/dev/fuse', constants.R_OK | constants.W_OK) && usable(FUSE_BIN, constants.X_OK), 'root, /dev/fuse and native/fuse/build/rill-fuse (apt-get install libfuse3-dev fuse3; npm run install)');
}

/** The two ways the layer can serve writes: each write() a round trip (default), or the page cache (--writeback). */
export const CACHES: [label: string, args: string[]][] = [['', []], [' (--writeback)', ['--writeback']]];

/** True when a command is on PATH (fio, sqlite3, git); skips (fails under CI=true) otherwise. */
export function requireTool(t: { skip: (msg: string) => void }, cmd: string, pkg = cmd): boolean {
  return requireCapability(t, spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0, `${cmd} (apt-get install ${pkg})`);
}

/** The FUSE mounts currently at path. */
export function fuseMountsAt(path: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.split(' ')[4] === path && / - fuse/.test(l));
}

export interface Running {
  capture: ChildProcess;
  replay?: ChildProcess;
  stderr: () => string;
  /** Sends sig to the capture; resolves with both exit codes and the stderr of both. */
  stop(sig?: NodeJS.Signals): Promise<{ capture: number | null; replay: number | null; stderr: string; replayErr: string }>;
  /** Kills whatever is left and detaches any mount left at the mountpoint. */
  cleanup(): void;
}

function exited(p: ChildProcess): Promise<number | null> {
  return p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise((r) => p.once('exit', (code) => r(code)));
}

/**
 * Starts `rill capture --mount ROOT ARGS` piped into `rill replay REPLICA` (a REPLICA ending in
 * .rill: the stream is written to that file; none: stdout is discarded, or ARGS name a journal),
 * and waits until it serves.
 */
export async function startCapture(root: string, replica: string | undefined, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<Running> {
  const toFile = replica?.endsWith('.rill') === true ? openSync(replica, 'w') : undefined;
  if (toFile !== undefined) replica = undefined;
  const capture = spawn(RILL, ['capture', '--mount', root, ...args], { stdio: ['ignore', toFile ?? (replica === undefined ? 'ignore' : 'pipe'), 'pipe'], env: { ...process.env, ...env } });
  if (toFile !== undefined) closeSync(toFile);
  let err = '';
  capture.stderr!.setEncoding('utf8');
  capture.stderr!.on('data', (s: string) => (err += s));
  let replay: ChildProcess | undefined;
  let replayErr = '';
  if (replica !== undefined) {
    replay = spawn(RILL, ['replay', replica], { stdio: [capture.stdout!, 'ignore', 'pipe'] });
    replay.stderr!.setEncoding('utf8');
    replay.stderr!.on('data', (s: string) => (replayErr += s));
  }
  const mountpoint = args.includes('--at') ? args[args.indexOf('--at') + 1]! : root;
  const running: Running = {
    capture,
    replay,
    stderr: () => err,
    async stop(sig = 'SIGTERM') {
      capture.kill(sig);
      const code = await exited(capture);
      const rcode = replay === undefined ? null : await exited(replay);
      return { capture: code, replay: rcode, stderr: err, replayErr };
    },
    cleanup() {
      if (capture.exitCode === null && capture.signalCode === null) capture.kill('SIGKILL');
      if (replay !== undefined && replay.exitCode === null && replay.signalCode === null) replay.kill('SIGKILL');
      for (let i = 0; i < 4 && fuseMountsAt(mountpoint).length > 0; i++) spawnSync('umount', ['-l', mountpoint]);
    },
  };
  const deadline = Date.now() + 15000;
  while (!err.includes('serving ')) {
    if (capture.exitCode !== null || Date.now() > deadline) {
      running.cleanup();
      throw new Error(`capture --mount did not start (exit ${capture.exitCode}): ${err}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return running;
}

export { until } from '../helpers/wait.js';

/** Runs a command, failing the test with its output when it fails. */
export function must(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

/** A fresh directory holding ROOT (made) and the name REPLICA (not made: replay makes it). */
export function mountDirs(prefix: string): { dir: string; root: string; rep: string; cleanup: () => void } {
  const { dir, cleanup } = tempDir(prefix);
  const root = join(dir, 'root');
  mkdirSync(root);
  return { dir, root, rep: join(dir, 'rep'), cleanup };
}

/** Stops a capture piped into replay with SIGTERM: 143, replay 0, and the replica identical to ROOT. */
export async function stopAndVerify(run: Running, root: string, rep: string): Promise<void> {
  const r = await run.stop();
  assert.equal(r.capture, 143, r.stderr);
  assert.equal(r.replay, 0, r.replayErr);
  const v = verify(root, rep);
  assert.equal(v.code, 0, v.out);
}

/** `rill verify A B` → its exit code and report. */
export function verify(a: string, b: string): { code: number; out: string } {
  const r = spawnSync(RILL, ['verify', a, b], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: r.stdout + r.stderr };
}

/** renameat2(RENAME_EXCHANGE) (coreutils' mv has no option for it everywhere): through python's ctypes. */
export function exchange(a: string, b: string): void {
  const py = 'import ctypes,os,sys\nlibc=ctypes.CDLL(None,use_errno=True)\nif libc.renameat2(-100,sys.argv[1].encode(),-100,sys.argv[2].encode(),2)!=0: raise OSError(ctypes.get_errno(),"renameat2")';
  must('python3', ['-c', py, a, b]);
}

/** The events of a stream file as `rill dump` prints them (one object a line). */
export function dumpEvents(file: string): Record<string, unknown>[] {
  return must(RILL, ['dump', file]).trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}
