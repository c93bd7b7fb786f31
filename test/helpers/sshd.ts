// A private OpenSSH server for end-to-end tests: its own config, host key and client key in a temp dir.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, readdirSync, existsSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { tempDir } from './tree.js';
import { RILL, q } from './cli.js';

export const SSHD = '/usr/sbin/sshd';

export interface SshdOptions {
  /** Listen address; 127.0.0.1 by default. */
  address?: string;
  /** Run sshd inside this network namespace (`ip netns exec NS sshd ...`); give `address` too. */
  netns?: string;
  /** Fixed port; by default a free high port. */
  port?: number;
}

export interface Sshd {
  host: string;
  port: number;
  /** The temp dir holding config, keys, known_hosts and the pid file. */
  dir: string;
  /** Pid of the listening sshd. */
  pid: number;
  /** ssh client argv (without `ssh` and without a remote command); `extra` options go before the destination. */
  sshArgs(extra?: string[]): string[];
  /** Full argv running `remote` (one shell command line) on the server: ['ssh', ...sshArgs, remote]. */
  command(remote: string, extra?: string[]): string[];
  /** The same as one shell-quoted command line, for `sh()` pipelines. */
  commandLine(remote: string, extra?: string[]): string;
  /** sshd's log so far (connections, errors), for failure messages. */
  log(): string;
  /** Kills sshd and every session process it started, waits, removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

/** Why: a missing sshd is a capability for requireCapability, not a test failure. */
export function sshdAvailable(): boolean {
  return existsSync(SSHD) && spawnSync('setpriv', ['--version']).status === 0 && spawnSync('ssh', ['-V']).status === 0 && spawnSync('ssh-keygen', ['-?']).error === undefined;
}

/** Why: the remote end must run this checkout's rill with this node, whatever the remote PATH says. */
export function remoteRill(args: string[]): string {
  return [process.execPath, RILL, ...args].map(q).join(' ');
}

/** Why: the directories a remote `rill` / `node` needs on PATH (sshd sets this PATH for sessions). */
export const REMOTE_PATH = `${dirname(RILL)}:${dirname(process.execPath)}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** Environment variable naming the sshd (its temp dir) that started a session process. */
export const TAG = 'RILL_TEST_SSHD';

const live = new Set<{ pid: number; dir: string }>();
process.on('exit', () => {
  for (const s of live) {
    killTree(s.pid, 'SIGKILL');
    for (const p of tagged(s.dir)) killTree(p, 'SIGKILL');
    rmSync(s.dir, { recursive: true, force: true });
  }
});

/** Why: one fresh server per test, ready to accept connections when the promise resolves. */
export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const address = opts.address ?? '127.0.0.1';
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 }); // privilege separation dir
  sweepStale();
  const { dir, cleanup } = tempDir('rill-sshd-');
  try {
    writeFileSync(`${dir}/owner`, String(process.pid));
    keygen(`${dir}/host_ed25519`);
    keygen(`${dir}/client_ed25519`);
    writeFileSync(`${dir}/authorized_keys`, readFileSync(`${dir}/client_ed25519.pub`));
    const hostKey = readFileSync(`${dir}/host_ed25519.pub`, 'utf8').trim().split(' ').slice(0, 2).join(' ');
    let lastError = '';
    for (let attempt = 0; attempt < 5; attempt++) {
      const port = opts.port ?? (opts.netns ? 20000 + Math.floor(Math.random() * 40000) : await freePort(address));
      writeFileSync(`${dir}/sshd_config`, config(dir, address, port));
      writeFileSync(`${dir}/known_hosts`, `[${address}]:${port} ${hostKey}\n`);
      const r = await launch(dir, opts.netns, address, port);
      if ('error' in r) {
        lastError = r.error;
        if (/Address already in use|Cannot bind/i.test(r.error) && opts.port === undefined) continue;
        break;
      }
      return handle(dir, address, port, r.child, cleanup);
    }
    throw new Error(`sshd did not start on ${address}${opts.netns ? ` in netns ${opts.netns}` : ''}: ${lastError}`);
  } catch (e) {
    cleanup();
    throw e;
  }
}

/** Removes what test processes killed without cleanup left: their sshd dirs and tagged sessions. */
export function sweepStale(): void {
  const root = process.env.RILL_TEST_TMP ?? tmpdir();
  for (const name of readdirSync(root)) {
    if (!name.startsWith('rill-sshd-')) continue;
    const dir = join(root, name);
    let owner: number;
    try {
      owner = Number(readFileSync(`${dir}/owner`, 'utf8'));
    } catch {
      continue; // being set up by someone, or not ours
    }
    if (!owner || owner === process.pid || pidAlive(owner)) continue;
    for (const p of tagged(dir)) killTree(p, 'SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
}

function keygen(path: string): void {
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rill-test', '-f', path]);
  if (r.status !== 0) throw new Error(`ssh-keygen -f ${path} failed: ${r.stderr?.toString()}`);
}

function config(dir: string, address: string, port: number): string {
  const lines = [
    `ListenAddress ${address}`,
    `Port ${port}`,
    `HostKey ${dir}/host_ed25519`,
    `PidFile ${dir}/sshd.pid`,
    `AuthorizedKeysFile ${dir}/authorized_keys`,
    'AuthenticationMethods publickey',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'PermitRootLogin prohibit-password',
    'StrictModes no',
    'UsePAM no',
    'PrintMotd no',
    'PrintLastLog no',
    'UseDNS no',
    'MaxStartups 100',
    'MaxSessions 100',
    // SHLVL=1: bash then counts as nested and skips ~/.bashrc, so the machine's dotfiles (slow pyenv
    // init, PATH edits, output) do not leak into sessions.
    // RILL_TEST_SSHD tags every session process: when a client drops, sshd leaves the remote command
    // running as an orphan (no longer its descendant); stop() finds those by this tag.
    `SetEnv PATH=${REMOTE_PATH} SHLVL=1 ${TAG}=${dir}`,
    'LogLevel INFO',
  ];
  // OpenSSH ≥ 9.8 penalises clients that drop connections; fault-injection tests do exactly that.
  if (opensshVersion() >= 9.8) lines.push('PerSourcePenalties no');
  return lines.join('\n') + '\n';
}

let version: number | undefined;
function opensshVersion(): number {
  if (version === undefined) {
    const m = /OpenSSH_(\d+)\.(\d+)/.exec(spawnSync('ssh', ['-V']).stderr?.toString() ?? '');
    version = m ? Number(m[1]) + Number(m[2]) / 10 : 0;
  }
  return version;
}

function freePort(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, address, () => {
      const a = s.address();
      s.close(() => (a && typeof a === 'object' ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

type Launch = { child: ChildProcess } | { error: string };

/** Starts sshd and resolves once it logs "Server listening" (after listen(2)), or with its error. */
function launch(dir: string, netns: string | undefined, address: string, port: number): Promise<Launch> {
  // -E: log to a file, not a pipe this process might not drain while a test blocks in spawnSync.
  // setpriv --pdeathsig: sshd dies with this test process even if that is killed without cleanup.
  writeFileSync(`${dir}/sshd.log`, '');
  const argv = ['setpriv', '--pdeathsig', 'TERM', '--', SSHD, '-D', '-E', `${dir}/sshd.log`, '-f', `${dir}/sshd_config`];
  const full = netns ? ['ip', 'netns', 'exec', netns, ...argv] : argv;
  const child = spawn(full[0]!, full.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-8192)));
  const log = (): string => readFileSync(`${dir}/sshd.log`, 'utf8') + stderr;
  return new Promise((resolve) => {
    const started = Date.now();
    const finish = (r: Launch): void => {
      clearInterval(poll);
      child.off('exit', onExit);
      resolve(r);
    };
    const poll = setInterval(() => {
      if (log().includes(`Server listening on ${address} port ${port}`)) finish({ child });
      else if (Date.now() - started > 10_000) {
        killTree(child.pid ?? 0, 'SIGKILL');
        finish({ error: `no "Server listening" within 10 s: ${log()}` });
      }
    }, 20);
    const onExit = (code: number | null, sig: string | null): void => finish({ error: `sshd exited (${code ?? sig}): ${log().trim()}` });
    child.once('exit', onExit);
    child.once('error', (e) => finish({ error: String(e) }));
  });
}

function handle(dir: string, host: string, port: number, child: ChildProcess, cleanup: () => void): Sshd {
  const pid = child.pid!;
  const entry = { pid, dir };
  live.add(entry);
  const exited = new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once('exit', () => resolve())));
  let stopping: Promise<void> | undefined;
  const sshArgs = (extra: string[] = []): string[] => [
    '-F', '/dev/null',
    '-i', `${dir}/client_ed25519`,
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', `UserKnownHostsFile=${dir}/known_hosts`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', 'BatchMode=yes',
    '-o', 'LogLevel=ERROR',
    '-p', String(port),
    ...extra,
    `root@${host}`,
  ];
  return {
    host,
    port,
    dir,
    pid,
    sshArgs,
    command: (remote, extra) => ['ssh', ...sshArgs(extra), remote],
    commandLine: (remote, extra) => ['ssh', ...sshArgs(extra), remote].map(q).join(' '),
    log: () => {
      try {
        return readFileSync(`${dir}/sshd.log`, 'utf8');
      } catch {
        return '';
      }
    },
    stop: () =>
      (stopping ??= (async () => {
        const pids = killTree(pid, 'SIGKILL');
        for (const p of tagged(dir)) pids.push(...killTree(p, 'SIGKILL'));
        await exited;
        await waitGone(pids);
        live.delete(entry);
        cleanup();
      })()),
  };
}

/** Processes whose environment carries TAG=dir: sessions of that sshd, orphaned or not. */
function tagged(dir: string): number[] {
  const needle = Buffer.from(`\0${TAG}=${dir}\0`);
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${name}/environ`), Buffer.from([0])]).includes(needle)) pids.push(Number(name));
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return pids;
}

/** Children of every process, from /proc. */
function parents(): Map<number, number[]> {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const list = children.get(ppid) ?? [];
    list.push(Number(name));
    children.set(ppid, list);
  }
  return children;
}

/** Why: kills a process and all its descendants (SIGSTOP until the set is stable, so none can fork away); returns their pids. */
export function killTree(root: number, signal: NodeJS.Signals): number[] {
  if (!root) return [];
  const seen = new Set<number>();
  for (;;) {
    const children = parents();
    const before = seen.size;
    const todo = [root];
    while (todo.length) {
      const p = todo.pop()!;
      if (seen.has(p) && p !== root) continue;
      seen.add(p);
      try {
        process.kill(p, 'SIGSTOP');
      } catch {
        /* gone */
      }
      todo.push(...(children.get(p) ?? []).filter((c) => !seen.has(c)));
    }
    if (seen.size === before) break;
  }
  for (const p of seen) {
    try {
      process.kill(p, signal);
      process.kill(p, 'SIGCONT');
    } catch {
      /* gone */
    }
  }
  return [...seen];
}

/** Why: a signalled process is not gone the moment kill(2) returns; waits until every pid has exited. */
export async function waitGone(pids: number[], timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const alive = pids.filter(pidAlive);
    if (alive.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes still alive after ${timeoutMs} ms: ${alive.join(' ')}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Why: tests assert no fixture process outlives stop(); a zombie or a missing /proc entry counts as gone. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
