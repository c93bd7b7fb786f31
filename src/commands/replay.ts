// rill replay ROOT [FILE...]: options → applyRecords(readBatches(inputs)) → exit code (see man/rill-replay.1).
import type { CommandModule } from 'yargs';
import { describeError, exitCodeOf, run } from '../cli-run.js';
import { RillError } from '../errors.js';
import type { ApplyStats } from '../replica/index.js';
import type { Upstream } from '../ship/upstream.js';
import type { BookmarkWatch } from '../replica/bookmarks.js';

interface ReplayArgs {
  root: string;
  files?: string[];
  dryRun?: boolean;
  owner?: boolean;
  verbose?: boolean;
  fsync?: boolean;
  state?: string;
  force?: boolean;
  ack?: boolean;
  until?: string;
  last?: boolean;
  'on-bookmark'?: string;
  'on-bookmark-errors'?: string;
  'all-bookmarks'?: boolean;
}

/** The --verbose summary line. */
function summary(s: ApplyStats): string {
  const mib = (s.bytes / 1048576).toFixed(1);
  const skipped = s.skipped > 0 ? `, ${s.skipped} skipped as already applied` : '';
  return `${s.events} events, ${s.files} files, ${s.bytes} bytes (${mib} MiB), ${s.seconds.toFixed(2)} s${skipped}`;
}

/** The `rill replay` command module; why: registered by src/cli.ts like every command. */
export const replayCommand: CommandModule<object, ReplayArgs> = {
  command: 'replay <root> [files..]',
  describe: 'apply a stream to ROOT (created if missing); the replica becomes identical',
  builder: (y) =>
    y
      .usage(
        'rill replay [options] ROOT [FILE...]\n\n' +
          'Apply rill streams (FILE..., or stdin when none or "-") to the directory ROOT, created if missing. ' +
          'Every path stays beneath ROOT and symlinks are never followed; new files appear under their name only when complete. ' +
          'Progress is kept in ROOT/.rill at each commit and change of names, so a killed replay resumes exactly where it stopped; ' +
          'events already applied from the same source are skipped. A full stream removes what it does not name.\n\n' +
          'Exit 0 ok, 3 corrupt or truncated stream, 4 refused as unsafe, 5 I/O error (e.g. disk full), ' +
          '7 the stream does not fit the replica (another source, missing events); with --until, 1 when the input ended before the bookmark. See rill-replay(1).',
      )
      .positional('root', { type: 'string', demandOption: true, describe: 'the replica directory' })
      .positional('files', { type: 'string', array: true, describe: 'stream files, in order ("-" = stdin; default stdin)' })
      .option('dry-run', { alias: 'n', type: 'boolean', describe: 'print one line per change it would make; change nothing, not even create ROOT' })
      .option('owner', { type: 'boolean', describe: 'apply ownership (default: only when running as root); --no-owner skips chown events' })
      .option('fsync', { type: 'boolean', describe: 'fsync files and directories at each commit (default: only the state file is fsynced)' })
      .option('force', { type: 'boolean', describe: "apply a stream of another source than the replica's; a full stream then replaces the replica" })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'print notes, bookmarks and a summary line on stderr' })
      .option('ack', { type: 'boolean', describe: 'be the sink of rill ship: write the session hello and an ack after each durable commit on stdout; implies --fsync (see rill-ship(1))' })
      .option('until', { type: 'string', requiresArg: true, describe: 'stop right after bookmark NAME (the first of that name), leaving the replica exactly there; exit 1 if the input ends first' })
      .option('last', { type: 'boolean', describe: 'with --until: the last bookmark of that name in the input (reads FILE... twice; not stdin)' })
      .option('on-bookmark', { type: 'string', requiresArg: true, describe: 'run shell command CMD at each consistent bookmark, once the replica reached it (data durable, progress recorded); $RILL_BOOKMARK, $RILL_BOOKMARK_SEQ, $RILL_BOOKMARK_TIME, ... in its environment' })
      .option('on-bookmark-errors', { type: 'string', choices: ['stop', 'warn'], default: 'stop', describe: 'a failing --on-bookmark command stops the replay (exit 5), or only warns' })
      .option('all-bookmarks', { type: 'boolean', describe: 'run --on-bookmark at every bookmark, not only consistent ones' })
      .option('state', { type: 'string', requiresArg: true, describe: 'volume targets: record progress in FILE (default for a file: DIR/.NAME.rill-state beside it; required for a block device)' })
      .example('rill capture --scan /srv/data | rill replay /mnt/copy', '')
      .example('rill replay --dry-run /mnt/copy full.rill', '')
      .example('rill ship -- ssh standby rill replay --ack /srv/data', '')
      .example('rill replay --until nightly /restore < journal.rill', '')
      .example("rill replay --ack --on-bookmark 'btrfs subvolume snapshot -r /replica /snaps/$RILL_BOOKMARK' /replica", ''),
  handler: (argv) =>
    run('replay', async () => {
      if (argv.ack && argv.dryRun) throw new RillError('usage', '--ack and --dry-run do not go together: a dry run makes nothing durable to acknowledge');
      const upstream = argv.ack ? await sinkUpstream(argv.root, argv.state) : undefined;
      try {
        return await replay(argv, upstream);
      } catch (err) {
        upstream?.error(err instanceof RillError ? err.kind : 'internal', exitCodeOf(err), describeError(err));
        throw err;
      }
    }),
};

/** A replay that is ship's sink: hello with what the replica durably holds, before reading anything. */
async function sinkUpstream(root: string, state: string | undefined): Promise<Upstream> {
  const { Upstream } = await import('../ship/upstream.js');
  const { replicaPosition } = await import('../replica/position.js');
  const { hostname } = await import('node:os');
  const up = new Upstream();
  const at = replicaPosition(root, state);
  up.hello({ role: 'replay', node: hostname(), source: at?.source ?? null, seq: at?.seq ?? null });
  up.keepAlive();
  return up;
}

async function replay(argv: ReplayArgs, upstream: Upstream | undefined): Promise<number> {
  // Loaded on use, not at start-up; frames arrive as batches (one async step per frame).
  const { applyRecords } = await import('../replica/index.js');
  const { readBatches } = await import('../stream/inputs.js');
  // Volume mode (a file or block device ROOT, or a volume stream): src/replica/volume.ts.
  const { routeReplay, applyVolume } = await import('../replica/volume.js');
  const onDurable = upstream === undefined ? undefined : (source: string, seq: number) => upstream.ack(source, seq);
  const fsync = argv.fsync ?? argv.ack;
  const watch = await bookmarkWatch(argv);
  if (watch === 'absent') return notReached(argv, []);
  const read = readBatches(argv.files ?? []);
  const input = await routeReplay(argv.root, watch === undefined ? read : watch.filter(read));
  const stoppedEarly = (): boolean => watch?.stopped === true;
  if (input.volume) {
    const stats = await applyVolume(input.records, argv.root, { dryRun: argv.dryRun, fsync, verbose: argv.verbose, force: argv.force, state: argv.state, onDurable, stoppedEarly });
    if (argv.verbose) process.stderr.write(`rill replay: ${summary(stats)}\n`);
    return untilOutcome(argv, watch);
  }
  if (argv.state !== undefined) throw new RillError('usage', '--state FILE is for volume targets (a file or block device); a tree replica keeps its progress in ROOT/.rill/state.json');
  const stats = await applyRecords(input.records, argv.root, {
    dryRun: argv.dryRun,
    owner: argv.owner,
    fsync,
    verbose: argv.verbose,
    force: argv.force,
    onDurable,
    stoppedEarly,
  });
  if (argv.verbose) process.stderr.write(`rill replay: ${summary(stats)}\n`);
  return untilOutcome(argv, watch);
}

/** The pass-through for --until and --on-bookmark (undefined without them; 'absent': --last found no such bookmark). */
async function bookmarkWatch(argv: ReplayArgs): Promise<BookmarkWatch | undefined | 'absent'> {
  if (argv.until === undefined && argv['on-bookmark'] === undefined) {
    if (argv.last || argv['all-bookmarks']) throw new RillError('usage', argv.last ? '--last goes with --until NAME' : '--all-bookmarks goes with --on-bookmark CMD');
    return undefined;
  }
  const { checkBookmarkName } = await import('../freeze/names.js');
  const { BookmarkWatch, lastBookmark } = await import('../replica/bookmarks.js');
  const { bookmarkHook, syncReplica } = await import('../replica/bookmark-hook.js');
  const { replicaPosition } = await import('../replica/position.js');
  const { readBatches } = await import('../stream/inputs.js');
  const { resolve } = await import('node:path');
  if (argv.until !== undefined) checkBookmarkName(argv.until, '--until');
  if (argv['all-bookmarks'] && argv['on-bookmark'] === undefined) throw new RillError('usage', '--all-bookmarks goes with --on-bookmark CMD');
  let at: { source: string; seq: number } | undefined;
  if (argv.last) {
    if (argv.until === undefined) throw new RillError('usage', '--last goes with --until NAME');
    const files = argv.files ?? [];
    if (files.length === 0 || files.includes('-')) throw new RillError('usage', '--until NAME --last reads the input twice (to find the last bookmark of that name first): give stream FILEs, not stdin');
    at = await lastBookmark(readBatches(files), argv.until);
    if (at === undefined) return 'absent';
  }
  const root = resolve(argv.root);
  const log = (line: string): void => void process.stderr.write(`rill replay: ${line}\n`);
  let applied: { source: string; seq: number } | undefined;
  try {
    applied = replicaPosition(root, argv.state);
  } catch {
    applied = undefined; // the engine reports an unreadable state with its own message
  }
  return new BookmarkWatch({
    until: argv.until === undefined ? undefined : { name: argv.until, at },
    onBookmark: argv['on-bookmark'] === undefined || argv.dryRun ? undefined : bookmarkHook(argv['on-bookmark'], root, argv['on-bookmark-errors'] === 'warn' ? 'warn' : 'stop', log),
    allBookmarks: argv['all-bookmarks'],
    applied,
    durable: argv.dryRun ? undefined : () => syncReplica(root),
  });
}

/** Exit status of a replay with --until: 0 reached, 1 (with a message) the input ended first. */
function untilOutcome(argv: ReplayArgs, watch: BookmarkWatch | undefined): number {
  if (argv.until === undefined || watch === undefined) return 0;
  if (watch.reached !== undefined) {
    if (argv.verbose) process.stderr.write(`rill replay: stopped at bookmark ${JSON.stringify(watch.reached.name)} (seq ${watch.reached.seq})\n`);
    return 0;
  }
  return notReached(argv, watch.seen);
}

function notReached(argv: ReplayArgs, seen: string[]): number {
  const names = seen.length === 0 ? 'it holds no bookmarks' : `bookmarks seen: ${seen.map((n) => JSON.stringify(n)).join(', ')}`;
  process.stderr.write(`rill replay: bookmark ${JSON.stringify(argv.until)} not found: the input ended first (${names}); the replica holds everything the input had\n`);
  return 1;
}
