// rill ship over ssh (issue #4, section 7), all methods in the same run, to a private sshd
// (test/helpers/sshd.ts: its own host key, key-only auth) that this benchmark starts:
// (1) on 127.0.0.1, for the small-files and the large-files corpora, each into a fresh empty DST:
//       rill capture --scan SRC | rill ship [--compress none] -- ssh … rill replay --ack DST
//       rill capture --scan SRC | ssh … rill replay DST            (the plain pipe: ship's overhead)
//       rill capture --scan SRC | ssh … rill replay --fsync DST    (a plain pipe as durable as --ack)
//       rsync -a -e 'ssh …' SRC/ root@127.0.0.1:DST/
//       tar -C SRC -cf - . | ssh … tar -C DST -xf -
//     rill's replicas are checked with `rill verify` after every run (not timed).
// (2) to an sshd inside a network namespace with 50 ms of delay each way (test/helpers/netns.ts:
//     kernel netem, or a shaped TUN link where the kernel has none), the large-files corpus:
//       ship against the plain pipe, and `tar | ssh cat > /dev/null` (what ssh alone carries).
// Ship's peak RSS is read with /usr/bin/time, its bytes sent and reconnects from `ship --json`.
// --quick (CI) leaves out the rows that only explain (ship --compress none, replay --fsync, ssh cat).
// Run alone: node --import tsx bench/ship.ts [--quick] [--runs N] [--dir DIR]
import { mkdirSync, readdirSync, readFileSync, rmSync, existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { startSshd, sshdAvailable, remoteRill, type Sshd } from '../test/helpers/sshd.js';
import { createLink, netnsMissing, python3Available, kernelNetem, type Link } from '../test/helpers/netns.js';
import { q } from '../test/helpers/cli.js';
import { smallFiles, largeFiles } from './corpus.js';
import { benchArgs, have, isMain, median, RILL_BIN, run } from './common.js';

export interface ShipBenchResult {
  /** 'loopback' (127.0.0.1) or 'delay 50 ms' (each way, inside a namespace). */
  link: string;
  corpus: string;
  method: string;
  /** Median wall time. */
  seconds: number;
  runs: number[];
  /** Bytes of file data in the corpus (MB/s is this over seconds). */
  bytes: number;
  /** ship only: the highest peak RSS over the runs, KiB. */
  rssKiB?: number;
  /** ship only: stream bytes written to the transport (from --json), of the last run. */
  bytesSent?: number;
  /** ship only: sessions restarted, summed over the runs (0 expected: nothing breaks here). */
  reconnects?: number;
}

export interface ShipBenchOptions {
  rill: string;
  base: string;
  quick: boolean;
  runs: number;
  /** Corpora for part (1); the last one is also part (2)'s. */
  corpora: { name: string; path: string }[];
  log?: (line: string) => void;
}

const TIME = '/usr/bin/time';
const DELAY_MS = 50;

/** Bytes in the regular files of a tree. */
function treeBytes(dir: string): number {
  let n = 0;
  for (const d of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) n += treeBytes(p);
    else if (d.isFile()) n += lstatSync(p).size;
  }
  return n;
}

interface Method {
  name: string;
  cmd: (src: string, dst: string) => string;
  /** A rill replica: verified after each run. */
  rill?: boolean;
  /** rill ship: RSS and --json stats are collected. */
  ship?: boolean;
}

/** The methods, over the ssh of `s`; ship's peak RSS goes to files.rss. */
function methods(rill: string, s: Sshd, files: { rss: string }, opts: { delay: boolean; quick: boolean }): Method[] {
  const ssh = (remote: string): string => s.commandLine(remote);
  const timed = existsSync(TIME) ? `${TIME} -f %M -o ${q(files.rss)} ` : '';
  const ship = (flags: string) => (src: string, dst: string) =>
    `${rill} capture --scan ${q(src)} | ${timed}${rill} ship --json ${flags}-- ${ssh(remoteRill(['replay', '--ack', dst]))}`;
  const pipe = (flags: string) => (src: string, dst: string) => `${rill} capture --scan ${q(src)} | ${ssh(remoteRill(['replay', ...flags.split(' ').filter(Boolean), dst]))}`;
  // --quick (CI) keeps what the targets need; the rows that explain where time goes are full runs only.
  const full = !opts.quick;
  if (opts.delay) {
    return [
      { name: 'rill ship (zstd)', cmd: ship(''), rill: true, ship: true },
      { name: 'capture | ssh replay (plain pipe)', cmd: pipe(''), rill: true },
      ...(full ? [{ name: 'tar | ssh cat > /dev/null (what ssh carries)', cmd: (src: string) => `tar -C ${q(src)} -cf - . | ${ssh('cat > /dev/null')}` }] : []),
    ];
  }
  const e = ['ssh', ...s.sshArgs().slice(0, -1)].map(q).join(' ');
  return [
    { name: 'rill ship (zstd)', cmd: ship(''), rill: true, ship: true },
    ...(full ? [{ name: 'rill ship --compress none', cmd: ship('--compress none '), rill: true, ship: true }] : []),
    { name: 'capture | ssh replay (plain pipe)', cmd: pipe(''), rill: true },
    ...(full ? [{ name: 'capture | ssh replay --fsync', cmd: pipe('--fsync'), rill: true }] : []),
    { name: 'rsync -a -e ssh', cmd: (src, dst) => `rsync -a -e ${q(e)} ${q(src)}/ ${q(`root@${s.host}:${dst}/`)}` },
    { name: 'tar | ssh tar', cmd: (src, dst) => `tar -C ${q(src)} -cf - . | ${ssh(`mkdir -p ${q(dst)} && tar -C ${q(dst)} -xf -`)}` },
  ];
}

/** Every method `runs` times, interleaved (noise spreads over all of them), into a fresh DST each time. */
function measure(o: ShipBenchOptions, link: string, corpus: { name: string; path: string }, ms: Method[], work: string, log: (l: string) => void): ShipBenchResult[] {
  const dst = join(work, 'dst');
  const rss = join(work, 'rss');
  const bytes = treeBytes(corpus.path);
  run(`tar -C ${q(corpus.path)} -cf - . > /dev/null`); // warm the page cache: all methods read warm
  const rows = new Map<string, ShipBenchResult>();
  for (let r = 0; r < o.runs; r++) {
    for (const m of ms) {
      rmSync(dst, { recursive: true, force: true });
      rmSync(rss, { force: true });
      run('sync');
      const { seconds, stdout } = run(m.cmd(corpus.path, dst));
      log(`ship: ${link}, ${corpus.name}, ${m.name}: ${seconds.toFixed(2)} s`);
      const row = rows.get(m.name) ?? { link, corpus: corpus.name, method: m.name, seconds: 0, runs: [], bytes };
      rows.set(m.name, row);
      row.runs.push(seconds);
      if (m.ship) {
        if (existsSync(rss)) row.rssKiB = Math.max(row.rssKiB ?? 0, Number(readFileSync(rss, 'utf8').trim().split('\n').pop()));
        const stats = JSON.parse(stdout.trim().split('\n').pop()!) as { totals: { bytesSent: number; reconnects: number } };
        row.bytesSent = stats.totals.bytesSent;
        row.reconnects = (row.reconnects ?? 0) + stats.totals.reconnects;
      }
      // The copy must be right, or its time means nothing (not timed).
      if (m.rill) run(`${o.rill} verify --quiet ${q(corpus.path)} ${q(dst)}`);
    }
  }
  rmSync(dst, { recursive: true, force: true });
  rmSync(rss, { force: true });
  return [...rows.values()].map((row) => ({ ...row, seconds: median(row.runs) }));
}

/** Why skipped, or undefined when the part can run; under CI=true a missing capability is an error. */
function missing(what: string, why: string | undefined, log: (l: string) => void): boolean {
  if (why === undefined) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true but the ship benchmark (${what}) cannot run: ${why}`);
  log(`ship: ${what} skipped: ${why}`);
  return true;
}

export async function shipBench(o: ShipBenchOptions): Promise<ShipBenchResult[]> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const noSshd = process.getuid?.() !== 0 ? 'not root (the private sshd logs in as root)' : !sshdAvailable() ? 'sshd, ssh or ssh-keygen missing (apt-get install openssh-server)' : !have('rsync') ? 'rsync missing' : undefined;
  if (missing('all of it', noSshd, log)) return [];
  const work = join(o.base, 'ship');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const out: ShipBenchResult[] = [];
  const files = { rss: join(work, 'rss') };
  try {
    // (1) loopback
    const s = await startSshd();
    try {
      for (const c of o.corpora) out.push(...measure(o, 'loopback', c, methods(o.rill, s, files, { delay: false, quick: o.quick }), work, log));
    } finally {
      await s.stop();
    }
    // (2) 50 ms each way
    const netWhy = netnsMissing() ?? (!kernelNetem() && !python3Available() ? 'neither kernel netem nor python3 (for the user-space link)' : undefined);
    if (!missing(`the ${DELAY_MS} ms delay part`, netWhy, log)) {
      let link: Link | undefined;
      let ns: Sshd | undefined;
      try {
        link = await createLink();
        if (link.kind === 'tun') {
          // The user-space link moves every packet through Python: at a 1500-byte MTU that costs
          // more CPU than ssh and rill on this 2-core machine. Large packets (as veth's GSO gives
          // for free) keep the emulator out of the way; delay is per packet all the same.
          run(`ip link set ${link.hostIf} mtu 65000 && ip -n ${link.ns} link set ${link.nsIf} mtu 65000`);
        }
        ns = await startSshd({ netns: link.ns, address: link.nsAddr });
        await link.netem({ delayMs: DELAY_MS });
        const label = `delay ${DELAY_MS} ms each way (${link.kind === 'tun' ? 'user-space TUN link' : 'veth + netem'})`;
        const c = o.corpora[o.corpora.length - 1]!;
        out.push(...measure(o, label, c, methods(o.rill, ns, files, { delay: true, quick: o.quick }), work, log));
      } finally {
        await ns?.stop();
        await link?.destroy();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

/** Markdown tables of the results. */
export function shipTables(rows: ShipBenchResult[]): string {
  const lines: string[] = [];
  const cell = (t: string): string => t.replaceAll('|', '\\|');
  const mbs = (r: ShipBenchResult): string => (r.bytes / r.seconds / 1e6).toFixed(1);
  const ratio = (r: ShipBenchResult, to: ShipBenchResult | undefined): string => (to === undefined ? '' : (r.seconds / to.seconds).toFixed(2));
  const extra = (r: ShipBenchResult): string =>
    r.rssKiB === undefined && r.bytesSent === undefined ? ' | |' : ` | ${r.rssKiB === undefined ? '' : Math.round(r.rssKiB / 1024)} | ${r.bytesSent === undefined ? '' : (r.bytesSent / r.bytes).toFixed(3)}${r.reconnects ? ` (${r.reconnects} reconnects)` : ''} |`;
  const groups = new Map<string, ShipBenchResult[]>();
  for (const r of rows) {
    const k = `${r.link}§${r.corpus}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const loop = [...groups.values()].filter((g) => g[0]!.link === 'loopback');
  const delay = [...groups.values()].filter((g) => g[0]!.link !== 'loopback');
  if (loop.length > 0) {
    lines.push('| over ssh to 127.0.0.1 | method | seconds | MB/s | × plain pipe | × rsync | × tar\\|ssh tar | ship RSS MB | sent ÷ data |');
    lines.push('|---|---|---:|---:|---:|---:|---:|---:|---:|');
    for (const g of loop) {
      const pipe = g.find((r) => r.method.includes('plain pipe'));
      const rsync = g.find((r) => r.method.startsWith('rsync'));
      const tar = g.find((r) => r.method.startsWith('tar'));
      for (const r of g) lines.push(`| ${r.corpus} | ${cell(r.method)} | ${r.seconds.toFixed(2)} | ${mbs(r)} | ${ratio(r, pipe)} | ${ratio(r, rsync)} | ${ratio(r, tar)}${extra(r)}`);
    }
  }
  for (const g of delay) {
    if (lines.length > 0) lines.push('');
    const pipe = g.find((r) => r.method.includes('plain pipe'));
    lines.push(`| ${g[0]!.link} | method | seconds | MB/s | × plain pipe | ship RSS MB | sent ÷ data |`);
    lines.push('|---|---|---:|---:|---:|---:|---:|');
    for (const r of g) lines.push(`| ${r.corpus} | ${cell(r.method)} | ${r.seconds.toFixed(2)} | ${mbs(r)} | ${ratio(r, pipe)}${extra(r)}`);
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const { quick, runs, base } = benchArgs();
  const nSmall = quick ? 2000 : 20000;
  const largeMiB = quick ? 64 : 1024;
  const small = join(base, `small-${nSmall}`);
  const large = join(base, `large-${largeMiB}M`);
  smallFiles(small, nSmall);
  largeFiles(large, largeMiB);
  const corpora = [
    { name: `${nSmall} small files`, path: small },
    { name: `${largeMiB} MiB large files`, path: large },
  ];
  shipBench({ rill: RILL_BIN, base, quick, runs, corpora })
    .then((rows) => console.log(shipTables(rows)))
    .catch((err: unknown) => {
      process.stderr.write(`bench/ship: ${(err as Error).message}\n`);
      process.exit(1);
    });
}
