// A network namespace joined to the host by a point-to-point link that tests can cut, slow and make lossy.
//
// Two kinds of link, same API:
//  - 'veth': a veth pair; delay/loss/rate by `tc qdisc ... netem` (needs the kernel's sch_netem).
//  - 'tun': two TUN devices joined by a small Python packet shuttle (TUN_SHUTTLE below) that applies
//    the same delay/loss/rate in user space — for kernels built without CONFIG_NET_SCH_NETEM (such as
//    the 6.18 VM kernel these tests were written on, where no module can be loaded either).
// createLink() picks 'veth' when kernel netem works, else 'tun'; pass { kind } to force one.
//
// Shaping semantics (both kinds): every packet in EACH direction gets delayMs, lossPct and rateKbit,
// so a round trip gains 2 × delayMs. down()/up() set the namespace end's interface down/up: the host
// end keeps its route, so packets to the namespace are dropped (never routed out to the real network)
// and connections time out as on a cut cable; up() restores them.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { killTree, waitGone } from './sshd.js';

export type LinkKind = 'veth' | 'tun';

/** Each netem() call replaces all previous settings; omitted means none. */
export interface NetemOptions {
  /** One-way delay added in each direction (a round trip gains twice this). */
  delayMs?: number;
  /** Random loss per packet, in each direction, 0–100. */
  lossPct?: number;
  /** Bandwidth cap in each direction. */
  rateKbit?: number;
}

export interface Link {
  kind: LinkKind;
  /** Namespace name, e.g. rill-t-1234-1. */
  ns: string;
  /** 10.231.X.1 (host end) and 10.231.X.2 (namespace end), /24. */
  hostAddr: string;
  nsAddr: string;
  hostIf: string;
  nsIf: string;
  /** argv prefix running a command in the namespace: [...link.exec, 'cmd', ...]. */
  exec: string[];
  down(): Promise<void>;
  up(): Promise<void>;
  netem(opts: NetemOptions): Promise<void>;
  clearNetem(): Promise<void>;
  /** Kills every process left in the namespace, deletes it (and with it the link). Idempotent. */
  destroy(): Promise<void>;
}

export const NS_PREFIX = 'rill-t-';

/** Runs a command; throws with its stderr on failure. */
async function run(argv: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (err += d.toString()));
    c.once('error', reject);
    c.once('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`${argv.join(' ')}: exit ${code}: ${err.trim()}`))));
  });
}

/** Why: tests ask this before requireCapability — root, `ip`, namespaces and veth must all work. Null when fine. */
export function netnsMissing(): string | null {
  if (process.getuid?.() !== 0) return 'root (network namespaces)';
  const probe = `${NS_PREFIX}probe-${process.pid}`;
  const add = spawnSync('ip', ['netns', 'add', probe]);
  if (add.error || add.status !== 0) return `ip netns (iproute2): ${add.error?.message ?? add.stderr.toString().trim()}`;
  try {
    const veth = spawnSync('ip', ['-n', probe, 'link', 'add', 'p0', 'type', 'veth', 'peer', 'name', 'p1']);
    if (veth.status !== 0) return `veth: ${veth.stderr.toString().trim()}`;
    return null;
  } finally {
    spawnSync('ip', ['netns', 'del', probe]);
  }
}

let netemCache: boolean | undefined;
/** Why: kernel netem is optional (CONFIG_NET_SCH_NETEM); tests needing exactly it check this. */
export function kernelNetem(): boolean {
  if (netemCache !== undefined) return netemCache;
  spawnSync('modprobe', ['-q', 'sch_netem']); // may be absent or built in; the probe below decides
  const probe = `${NS_PREFIX}netem-${process.pid}`;
  spawnSync('ip', ['netns', 'add', probe]);
  const r = spawnSync('tc', ['-n', probe, 'qdisc', 'add', 'dev', 'lo', 'root', 'netem', 'delay', '1ms']);
  spawnSync('ip', ['netns', 'del', probe]);
  return (netemCache = r.status === 0);
}

/** Why: the 'tun' kind shuttles packets through Python; tests check for it like any capability. */
export function python3Available(): boolean {
  return spawnSync('python3', ['-c', 'import fcntl, select']).status === 0;
}

const live = new Map<string, ChildProcess | undefined>();
process.on('exit', () => {
  for (const [ns, shuttle] of live) {
    destroySync(ns);
    if (shuttle?.pid) killTree(shuttle.pid, 'SIGKILL');
  }
});

/** Kills every process in the namespace (and their descendants), deletes it; returns the killed pids. */
function destroySync(ns: string): number[] {
  const pids = spawnSync('ip', ['netns', 'pids', ns]).stdout?.toString().split(/\s+/).filter(Boolean).map(Number) ?? [];
  const killed = pids.flatMap((p) => killTree(p, 'SIGKILL'));
  spawnSync('ip', ['netns', 'del', ns]);
  return killed;
}

/** Removes namespaces left by test processes that died without cleaning up (their pid is in the name). */
export function sweepStale(): void {
  const names = spawnSync('ip', ['netns', 'list']).stdout?.toString().split('\n').map((l) => l.split(' ')[0]!) ?? [];
  for (const n of names) {
    const m = new RegExp(`^${NS_PREFIX}(?:probe-|netem-)?(\\d+)`).exec(n);
    if (m && m[1] !== String(process.pid) && !processExists(Number(m[1]))) destroySync(n);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

let counter = 0;

/** Why: one isolated namespace + link per test; resolves when both ends are up and addressed. */
export async function createLink(opts: { kind?: LinkKind } = {}): Promise<Link> {
  sweepStale();
  const kind = opts.kind ?? (kernelNetem() ? 'veth' : 'tun');
  const ns = `${NS_PREFIX}${process.pid}-${++counter}`;
  await run(['ip', 'netns', 'add', ns]);
  live.set(ns, undefined);
  let shuttle: ChildProcess | undefined;
  try {
    await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up']);
    const used = await run(['ip', '-4', '-o', 'route', 'show', 'table', 'all']);
    // Claim a subnet index X atomically through the host interface name rillXh (creation fails if taken).
    const start = Math.floor(Math.random() * 250);
    let x = -1;
    for (let i = 0; i < 250 && x < 0; i++) {
      const cand = ((start + i) % 250) + 1;
      if (used.includes(`10.231.${cand}.`)) continue;
      try {
        if (kind === 'veth') await run(['ip', 'link', 'add', `rill${cand}h`, 'type', 'veth', 'peer', 'name', `rill${cand}n`, 'netns', ns]);
        else shuttle = await startShuttle(`rill${cand}h`, `rill${cand}n`);
        x = cand;
      } catch (e) {
        if (!/exists|busy|in use/i.test(String(e))) throw e;
      }
    }
    if (x < 0) throw new Error('no free 10.231.X.0/24 subnet and rillXh interface name');
    live.set(ns, shuttle);
    const hostIf = `rill${x}h`;
    const nsIf = `rill${x}n`;
    if (kind === 'tun') await run(['ip', 'link', 'set', nsIf, 'netns', ns]);
    const hostAddr = `10.231.${x}.1`;
    const nsAddr = `10.231.${x}.2`;
    await run(['ip', 'addr', 'add', `${hostAddr}/24`, 'dev', hostIf]);
    await run(['ip', 'link', 'set', hostIf, 'up']);
    await run(['ip', '-n', ns, 'addr', 'add', `${nsAddr}/24`, 'dev', nsIf]);
    await run(['ip', '-n', ns, 'link', 'set', nsIf, 'up']);
    return makeLink(kind, ns, hostIf, nsIf, hostAddr, nsAddr, shuttle);
  } catch (e) {
    if (shuttle?.pid) killTree(shuttle.pid, 'SIGKILL');
    destroySync(ns);
    live.delete(ns);
    throw e;
  }
}

function makeLink(kind: LinkKind, ns: string, hostIf: string, nsIf: string, hostAddr: string, nsAddr: string, shuttle: ChildProcess | undefined): Link {
  const shuttleExited = shuttle ? new Promise<void>((r) => (shuttle.exitCode !== null ? r() : shuttle.once('exit', () => r()))) : Promise.resolve();
  let destroying: Promise<void> | undefined;
  const tcArgs = (o: NetemOptions): string[] => {
    const a = ['limit', '100000']; // netem's default 1000 packets would drop at a high bandwidth-delay product
    if (o.delayMs) a.push('delay', `${o.delayMs}ms`);
    if (o.lossPct) a.push('loss', 'random', `${o.lossPct}%`);
    if (o.rateKbit) a.push('rate', `${o.rateKbit}kbit`);
    return a;
  };
  return {
    kind,
    ns,
    hostAddr,
    nsAddr,
    hostIf,
    nsIf,
    exec: ['ip', 'netns', 'exec', ns],
    down: async () => void (await run(['ip', '-n', ns, 'link', 'set', nsIf, 'down'])),
    up: async () => {
      await run(['ip', '-n', ns, 'link', 'set', nsIf, 'up']);
      if (kind !== 'veth') return;
      // A veth end coming up takes a moment to get its carrier, and the host's neighbour entry for
      // the namespace address went FAILED while it was down ("No route to host" until it expires):
      // wait for the carrier on both ends, then forget the failed entries.
      for (let i = 0; i < 100; i++) {
        const host = await run(['ip', 'link', 'show', hostIf]);
        const inside = await run(['ip', '-n', ns, 'link', 'show', nsIf]);
        if (host.includes('LOWER_UP') && inside.includes('LOWER_UP')) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      await run(['ip', 'neigh', 'flush', 'dev', hostIf]);
      await run(['ip', '-n', ns, 'neigh', 'flush', 'dev', nsIf]);
    },
    netem: async (o) => {
      if (kind === 'tun') return shuttleConfig(shuttle!, o);
      try {
        await run(['tc', 'qdisc', 'replace', 'dev', hostIf, 'root', 'netem', ...tcArgs(o)]);
        await run(['tc', '-n', ns, 'qdisc', 'replace', 'dev', nsIf, 'root', 'netem', ...tcArgs(o)]);
      } catch (e) {
        throw new Error(`tc netem failed (kernel without sch_netem? use createLink({ kind: 'tun' })): ${String(e)}`);
      }
    },
    clearNetem: async () => {
      if (kind === 'tun') return shuttleConfig(shuttle!, {});
      await run(['tc', 'qdisc', 'del', 'dev', hostIf, 'root']).catch(() => {});
      await run(['tc', '-n', ns, 'qdisc', 'del', 'dev', nsIf, 'root']).catch(() => {});
    },
    destroy: () =>
      (destroying ??= (async () => {
        const killed = destroySync(ns); // kills processes inside (e.g. an sshd not stopped), deletes ns: the veth pair goes with it
        if (shuttle?.pid) killed.push(...killTree(shuttle.pid, 'SIGKILL')); // the tun devices vanish when the shuttle's fds close
        await shuttleExited;
        await waitGone(killed);
        live.delete(ns);
      })()),
  };
}

/** Sends new shaping settings to the shuttle and waits for its acknowledgement line. */
function shuttleConfig(shuttle: ChildProcess, o: NetemOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      if (d.toString().includes('ok')) {
        shuttle.stdout!.off('data', onData);
        resolve();
      }
    };
    shuttle.stdout!.on('data', onData);
    shuttle.stdin!.write(JSON.stringify({ delay: (o.delayMs ?? 0) / 1000, loss: (o.lossPct ?? 0) / 100, rate: ((o.rateKbit ?? 0) * 1000) / 8 }) + '\n', (e) => e && reject(e));
  });
}

/** Starts the shuttle, which creates TUN devices H and N (both in the host namespace, N is moved later). */
function startShuttle(h: string, n: string): Promise<ChildProcess> {
  const c = spawn('python3', ['-c', TUN_SHUTTLE, h, n], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  c.stderr!.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-8192)));
  return new Promise((resolve, reject) => {
    const onData = (d: Buffer): void => {
      if (d.toString().includes('ready')) {
        c.stdout!.off('data', onData);
        resolve(c);
      }
    };
    c.stdout!.on('data', onData);
    c.once('error', reject);
    c.once('exit', (code) => reject(new Error(`tun shuttle exited ${code}: ${err.trim()}`)));
  });
}

// The user-space link: reads packets from either TUN fd, queues them with the configured one-way delay,
// serialisation at the rate cap (backlog beyond 200 ms is tail-dropped, like a router queue) and random
// loss, writes them to the other fd when due (FIFO per direction). A packet written to a down interface
// is dropped. Settings arrive as JSON lines on stdin, each acknowledged with "ok"; stdin EOF
// (the test process died) ends it, and its TUN devices disappear with it.
const TUN_SHUTTLE = String.raw`
import os, sys, fcntl, struct, select, random, time, json, collections, errno
TUNSETIFF = 0x400454ca; IFF_TUN = 0x0001; IFF_NO_PI = 0x1000
def tun(name):
    fd = os.open('/dev/net/tun', os.O_RDWR)
    try:
        fcntl.ioctl(fd, TUNSETIFF, struct.pack('16sH', name.encode(), IFF_TUN | IFF_NO_PI))
    except OSError as e:
        sys.stderr.write('%s: %s (in use)\n' % (name, e.strerror)); sys.exit(3)
    os.set_blocking(fd, False)
    return fd
a = tun(sys.argv[1]); b = tun(sys.argv[2])
cfg = {'delay': 0.0, 'loss': 0.0, 'rate': 0.0}
queues = {a: collections.deque(), b: collections.deque()}   # keyed by destination fd
free_at = {a: 0.0, b: 0.0}
sys.stdout.write('ready\n'); sys.stdout.flush()
inp = sys.stdin.fileno(); buf = b''
while True:
    now = time.monotonic()
    due = [q[0][0] for q in queues.values() if q]
    timeout = max(0.0, min(due) - now) if due else None
    r, _, _ = select.select([a, b, inp], [], [], timeout)
    if inp in r:
        chunk = os.read(inp, 4096)
        if not chunk: sys.exit(0)
        buf += chunk
        while b'\n' in buf:
            line, buf = buf.split(b'\n', 1)
            cfg.update(json.loads(line)); sys.stdout.write('ok\n'); sys.stdout.flush()
    now = time.monotonic()
    for src, dst in ((a, b), (b, a)):
        if src not in r: continue
        for _ in range(256):
            try: pkt = os.read(src, 65536)
            except OSError as e:
                if e.errno in (errno.EAGAIN, errno.EIO): break
                raise
            if cfg['loss'] and random.random() < cfg['loss']: continue
            t = now
            if cfg['rate']:
                start = max(now, free_at[dst])
                if start - now > 0.2: continue
                free_at[dst] = t = start + len(pkt) / cfg['rate']
            q = queues[dst]
            at = t + cfg['delay']
            if q and q[-1][0] > at: at = q[-1][0]
            q.append((at, pkt))
    now = time.monotonic()
    for dst, q in queues.items():
        while q and q[0][0] <= now:
            pkt = q.popleft()[1]
            try: os.write(dst, pkt)
            except OSError: pass
`;
