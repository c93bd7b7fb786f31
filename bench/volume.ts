// Volume mode against rsync and btrfs send, in the same run on the same image:
// (b) an image (2 GiB; quick 256 MiB) with up-to-date copies; N random 4 KiB writes (1,000; quick
//     100) into it; then `rill capture --scan --state S --block-size B img | rill replay copy` for
//     B = 4K, 16K, 64K (one state and copy each) against `rsync --inplace --no-whole-file img copy`.
//     Reported: wall time, stream bytes ÷ bytes changed, state size.
// (c) the image on a loop-mounted btrfs: snapshot, the same writes, snapshot, then
//     `btrfs send -p old new | btrfs receive DIR` (time, stream size).
// Run alone: node --import tsx bench/volume.ts [--quick] [--runs N] [--dir DIR]
import { spawnSync } from 'node:child_process';
import { randomFillSync, randomInt } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { benchArgs, have, isMain, median, RILL_BIN, run, time } from './common.js';

export interface VolumeResult {
  case: string;
  method: string;
  seconds: number;
  runs: number[];
  /** Bytes of the stream (rill, btrfs send). */
  streamBytes?: number;
  /** Distinct bytes changed in the image by the writes. */
  changedBytes?: number;
  /** Bytes of the state file (rill). */
  stateBytes?: number;
}

const BLOCK = 4096;

const size = (path: string): number => statSync(path).size;

/** An image of `bytes` random (incompressible, non-zero) data, like a well-used disk. */
function makeImage(path: string, bytes: number): void {
  if (existsSync(path) && size(path) === bytes) return;
  const fd = openSync(path, 'w');
  const buf = Buffer.allocUnsafe(16 << 20);
  try {
    for (let at = 0; at < bytes; at += buf.length) {
      randomFillSync(buf);
      const n = Math.min(buf.length, bytes - at);
      writeSync(fd, buf, 0, n, at);
    }
  } finally {
    closeSync(fd);
  }
}

/** n random block-aligned 4 KiB writes (a guest file system's writes are); returns the distinct bytes changed. */
function randomWrites(n: number, bytes: number): { at: number; data: Buffer }[] {
  const blocks = bytes / BLOCK;
  return Array.from({ length: n }, () => ({ at: randomInt(blocks) * BLOCK, data: randomFillSync(Buffer.allocUnsafe(BLOCK)) }));
}

function applyWrites(path: string, writes: { at: number; data: Buffer }[]): void {
  const fd = openSync(path, 'r+');
  try {
    for (const w of writes) writeSync(fd, w.data, 0, w.data.length, w.at);
  } finally {
    closeSync(fd);
  }
}

const distinctBytes = (writes: { at: number }[]): number => new Set(writes.map((w) => w.at)).size * BLOCK;

export interface VolumeBenchOptions {
  rill: string;
  base: string;
  quick: boolean;
  runs: number;
  log?: (line: string) => void;
}

/** (b): rill by block size against rsync; (c): btrfs send/receive. */
export function volumeBench(o: VolumeBenchOptions): VolumeResult[] {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const mib = o.quick ? 256 : 2048;
  const bytes = mib * 1048576;
  const nWrites = o.quick ? 100 : 1000;
  const work = join(o.base, 'volume');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const img = join(o.base, `image-${mib}M.img`);
  log(`volume: image ${img} (${mib} MiB, generated once, reused)`);
  makeImage(img, bytes);
  const sizes = ['4K', '16K', '64K'];
  const rillCmd = (bs: string): string =>
    `${o.rill} capture --scan --state ${work}/${bs}.state --block-size ${bs} ${img} | tee ${work}/${bs}.rill | ${o.rill} replay ${work}/copy-${bs}.img`;
  const rsyncCmd = `rsync --inplace --no-whole-file ${img} ${work}/copy-rsync.img`;
  // Up to date before the runs: a full copy by each method (not timed).
  for (const bs of sizes) time(rillCmd(bs));
  time(`cp --sparse=always ${img} ${work}/copy-rsync.img`);
  time(`cat ${img} > /dev/null`); // warm: every method reads the image from the page cache

  const btrfs = btrfsSetup(o, work, img, bytes, log);
  const t: Record<string, number[]> = {};
  const stream: Record<string, number[]> = {};
  const changed: number[] = [];
  const push = (m: string, s: number): void => void (t[m] ??= []).push(s);
  for (let r = 0; r < o.runs; r++) {
    const writes = randomWrites(nWrites, bytes);
    changed.push(distinctBytes(writes));
    applyWrites(img, writes);
    for (const bs of sizes) {
      push(`rill --block-size ${bs}`, time(rillCmd(bs)));
      (stream[bs] ??= []).push(size(`${work}/${bs}.rill`));
    }
    push('rsync --inplace --no-whole-file', time(rsyncCmd));
    if (btrfs !== undefined) {
      const b = btrfs.round(writes, r);
      push('btrfs send -p | receive', b.seconds);
      (stream.btrfs ??= []).push(b.streamBytes);
    }
    // The copies must be right, or their times mean nothing.
    for (const bs of sizes) time(`cmp ${img} ${work}/copy-${bs}.img`);
    time(`cmp ${img} ${work}/copy-rsync.img`);
  }
  btrfs?.cleanup();
  const c = `${nWrites} random 4 KiB writes into a ${mib} MiB image`;
  const out: VolumeResult[] = sizes.map((bs) => ({
    case: c,
    method: `rill --block-size ${bs}`,
    seconds: median(t[`rill --block-size ${bs}`]!),
    runs: t[`rill --block-size ${bs}`]!,
    streamBytes: median(stream[bs]!),
    changedBytes: median(changed),
    stateBytes: size(`${work}/${bs}.state`),
  }));
  out.push({ case: c, method: 'rsync --inplace --no-whole-file', seconds: median(t['rsync --inplace --no-whole-file']!), runs: t['rsync --inplace --no-whole-file']!, changedBytes: median(changed) });
  if (btrfs !== undefined) {
    out.push({ case: c, method: 'btrfs send -p | receive', seconds: median(t['btrfs send -p | receive']!), runs: t['btrfs send -p | receive']!, streamBytes: median(stream.btrfs!), changedBytes: median(changed) });
  }
  rmSync(work, { recursive: true, force: true });
  return out;
}

/** A loop-mounted btrfs holding a copy of the image and a receive directory; undefined (with a message) when unavailable. */
function btrfsSetup(o: VolumeBenchOptions, work: string, img: string, bytes: number, log: (line: string) => void) {
  const why = process.getuid?.() !== 0 ? 'not root' : !have('mkfs.btrfs') ? 'mkfs.btrfs missing (apt-get install btrfs-progs)' : undefined;
  const skip = (reason: string): undefined => {
    if (process.env.CI === 'true') throw new Error(`CI=true but the btrfs benchmark cannot run: ${reason}`);
    log(`volume: btrfs benchmark skipped: ${reason}`);
    return undefined;
  };
  if (why !== undefined) return skip(why);
  const fsImg = join(work, 'btrfs.img');
  const mnt = join(work, 'btrfs');
  mkdirSync(mnt, { recursive: true });
  try {
    time(`truncate -s ${Math.ceil((bytes * 3) / (1 << 30)) + 1}G ${fsImg} && mkfs.btrfs -q ${fsImg} && mount -o loop ${fsImg} ${mnt}`);
  } catch (err) {
    return skip(`cannot make and mount a btrfs: ${(err as Error).message.split('\n')[0]}`);
  }
  const unmount = (): void => void spawnSync('umount', [mnt]);
  try {
    time(`btrfs -q subvolume create ${mnt}/vol && mkdir ${mnt}/recv && cp ${img} ${mnt}/vol/img`);
    time(`btrfs -q subvolume snapshot -r ${mnt}/vol ${mnt}/snap0 && btrfs -q send ${mnt}/snap0 | btrfs -q receive ${mnt}/recv && sync`);
  } catch (err) {
    unmount();
    throw err;
  }
  return {
    round(writes: { at: number; data: Buffer }[], r: number): { seconds: number; streamBytes: number } {
      applyWrites(`${mnt}/vol/img`, writes);
      const [old, now] = [`${mnt}/snap${r}`, `${mnt}/snap${r + 1}`];
      const cmd = `btrfs -q subvolume snapshot -r ${mnt}/vol ${now} && btrfs -q send -p ${old} ${now} | btrfs -q receive ${mnt}/recv`;
      const seconds = time(cmd);
      const streamBytes = Number(run(`btrfs -q send -p ${old} ${now} | wc -c`).stdout.trim());
      time(`cmp ${mnt}/vol/img ${mnt}/recv/snap${r + 1}/img`);
      return { seconds, streamBytes };
    },
    cleanup(): void {
      unmount();
      rmSync(fsImg, { force: true });
    },
  };
}

/** Markdown tables of the results. */
export function volumeTables(rows: VolumeResult[]): string {
  const mib = (n: number): string => (n / (1 << 20)).toFixed(2);
  const lines = ['| case | method | seconds | × rsync | stream MiB | stream ÷ changed | state MiB |', '|---|---|---:|---:|---:|---:|---:|'];
  for (const r of rows) {
    const rsync = rows.find((x) => x.case === r.case && x.method.startsWith('rsync'))!.seconds;
    const ratio = r.streamBytes !== undefined && r.changedBytes ? (r.streamBytes / r.changedBytes).toFixed(2) : '';
    lines.push(
      `| ${r.case} | ${r.method} | ${r.seconds.toFixed(2)} | ${(r.seconds / rsync).toFixed(2)} | ${r.streamBytes === undefined ? '' : mib(r.streamBytes)} | ${ratio} | ${r.stateBytes === undefined ? '' : mib(r.stateBytes)} |`,
    );
  }
  return lines.join('\n');
}

if (isMain(import.meta.url)) {
  const { quick, runs, base } = benchArgs();
  const rows = volumeBench({ rill: RILL_BIN, base, quick, runs });
  console.log(volumeTables(rows));
}
