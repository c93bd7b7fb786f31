// `rill ship` progress on stderr: one line per destination, redrawn in place (cli-progress) while
// stderr is a terminal: state, bytes sent, the send rate, events acknowledged, and the lag (seq and
// seconds) of the sink. On anything else it does nothing, so logs and pipes stay clean.
//
//   const progress = new ShipProgress();                  // stderr; inactive unless it is a TTY
//   progress.update(dest, stats.destination(dest));       // as often as you like (drawn ≤ 5 times a second)
//   progress.log('standby: transport died, retrying');    // a message above the lines, not through them
//   progress.stop();                                      // final lines drawn; call before exit
import cliProgress from 'cli-progress';
import type { DestinationStats } from './stats.js';

/** A stream progress can draw on: stderr, or in tests any Writable with isTTY and columns set. */
export type ProgressStream = NodeJS.WritableStream & { isTTY?: boolean; columns?: number };

/** Where progress draws; why: stderr in ship, a fake terminal in tests. */
export interface ShipProgressOptions {
  /** Default process.stderr. */
  stream?: ProgressStream;
  /** true: draw even when the stream is not a terminal (a line per destination every 2 s); false: never; default: only on a TTY. */
  force?: boolean;
  /** Monotonic clock in ms for the rate (default performance.now); injectable for tests. */
  now?: () => number;
}

/** The rate is averaged over this window. */
const RATE_WINDOW_MS = 5000;
/** Destination names are cut to this many characters. */
const NAME_MAX = 32;

interface Line {
  bar: cliProgress.SingleBar;
  samples: { t: number; bytes: number }[];
}

/** Ship's progress display; why: one object the main loop updates, a no-op off a terminal. */
export class ShipProgress {
  /** False when nothing is drawn (not a terminal): every method but log is then a no-op. */
  readonly active: boolean;
  private readonly bars: cliProgress.MultiBar | undefined;
  private readonly lines = new Map<string, Line>();
  private readonly now: () => number;
  private readonly stream: ProgressStream;
  private nameWidth = 0;

  constructor(options: ShipProgressOptions = {}) {
    const stream = options.stream ?? process.stderr;
    this.stream = stream;
    this.now = options.now ?? (() => performance.now());
    this.active = options.force ?? stream.isTTY === true;
    if (!this.active) return;
    this.bars = new cliProgress.MultiBar({
      stream: stream as NodeJS.WritableStream,
      format: (_opts, params, payload: { text?: string }) => (payload.text ?? '').slice(0, Math.max(20, params.maxWidth - 1)),
      fps: 5,
      hideCursor: false,
      clearOnComplete: false,
      gracefulExit: false, // ship handles SIGINT/SIGTERM itself
      noTTYOutput: stream.isTTY !== true,
      notTTYSchedule: 2000,
      emptyOnZero: true,
    });
    // The redraw timer must not keep ship alive once its work is done.
    const unref = (): void => void (this.bars as unknown as { timer: NodeJS.Timeout | null }).timer?.unref?.();
    this.bars.on('update-post', unref);
    this.bars.on('start', unref);
  }

  /** Shows the destination's latest numbers; why: the main loop calls it after each send or ack. */
  update(dest: string, snap: DestinationStats): void {
    if (this.bars === undefined) return;
    let line = this.lines.get(dest);
    const t = this.now();
    if (line === undefined) {
      this.nameWidth = Math.max(this.nameWidth, Math.min(NAME_MAX, dest.length));
      line = { bar: this.bars.create(1, 0, { text: '' }), samples: [] };
      this.lines.set(dest, line);
    }
    line.samples.push({ t, bytes: snap.bytesSent });
    while (line.samples.length > 2 && t - line.samples[1]!.t >= RATE_WINDOW_MS) line.samples.shift();
    const first = line.samples[0]!;
    const rate = t - first.t >= 200 ? ((snap.bytesSent - first.bytes) * 1000) / (t - first.t) : undefined;
    line.bar.update(0, { text: formatLine(fit(dest, this.nameWidth), snap, rate) });
  }

  /** Prints a message above the progress lines; why: plain stderr writes would be drawn over. */
  log(message: string): void {
    const line = message.endsWith('\n') ? message : `${message}\n`;
    if (this.bars === undefined) this.stream.write(line);
    else this.bars.log(line);
  }

  /** Draws the final lines and stops redrawing; why: call before ship exits (idempotent). */
  stop(): void {
    if (this.bars === undefined || this.lines.size === 0) return;
    this.bars.stop();
    this.lines.clear();
  }
}

function fit(name: string, width: number): string {
  return name.length > width ? `${name.slice(0, width - 1)}…` : name.padEnd(width);
}

/** One destination's line; why: exported for tests and for a plain-text status line elsewhere. */
export function formatLine(name: string, s: DestinationStats, bytesPerSecond?: number): string {
  const parts = [
    name,
    s.state.padEnd(10),
    `${formatBytes(s.bytesSent)} sent`,
    bytesPerSecond === undefined ? '      -/s' : `${formatBytes(bytesPerSecond).padStart(9)}/s`,
    `${s.eventsAcked}/${s.eventsSent} events acked`,
    `lag ${s.lagSeq ?? '?'} seq ${s.lagSeconds.toFixed(1)} s`,
  ];
  if (s.reconnects > 0) parts.push(`${s.reconnects} reconnect${s.reconnects === 1 ? '' : 's'}`);
  return parts.join('  ');
}

/** 1536 → "1.5 KiB"; why: sizes people read at a glance. */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) (n /= 1024), i++;
  return i === 0 ? `${Math.round(n)} B` : `${n.toFixed(n < 10 ? 2 : n < 100 ? 1 : 0)} ${units[i]}`;
}
