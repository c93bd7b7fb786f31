// rill replay ROOT [FILE...]: options → applyRecords(readBatches(inputs)) → exit code (see man/rill-replay.1).
import type { CommandModule } from 'yargs';
import { describeError, exitCodeOf, run } from '../cli-run.js';
import { RillError } from '../errors.js';
import type { ApplyStats } from '../replica/index.js';
import type { Upstream } from '../ship/upstream.js';

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
          '7 the stream does not fit the replica (another source, missing events). See rill-replay(1).',
      )
      .positional('root', { type: 'string', demandOption: true, describe: 'the replica directory' })
      .positional('files', { type: 'string', array: true, describe: 'stream files, in order ("-" = stdin; default stdin)' })
      .option('dry-run', { alias: 'n', type: 'boolean', describe: 'print one line per change it would make; change nothing, not even create ROOT' })
      .option('owner', { type: 'boolean', describe: 'apply ownership (default: only when running as root); --no-owner skips chown events' })
      .option('fsync', { type: 'boolean', describe: 'fsync files and directories at each commit (default: only the state file is fsynced)' })
      .option('force', { type: 'boolean', describe: "apply a stream of another source than the replica's; a full stream then replaces the replica" })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'print notes, bookmarks and a summary line on stderr' })
      .option('ack', { type: 'boolean', describe: 'be the sink of rill ship: write the session hello and an ack after each durable commit on stdout; implies --fsync (see rill-ship(1))' })
      .option('state', { type: 'string', requiresArg: true, describe: 'volume targets: record progress in FILE (default for a file: DIR/.NAME.rill-state beside it; required for a block device)' })
      .example('rill capture --scan /srv/data | rill replay /mnt/copy', '')
      .example('rill replay --dry-run /mnt/copy full.rill', '')
      .example('rill ship -- ssh standby rill replay --ack /srv/data', ''),
  handler: (argv) =>
    run('replay', async () => {
      if (argv.ack && argv.dryRun) throw new RillError('usage', '--ack and --dry-run do not go together: a dry run makes nothing durable to acknowledge');
      const upstream = argv.ack ? await sinkUpstream(argv.root, argv.state) : undefined;
      try {
        await replay(argv, upstream);
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

async function replay(argv: ReplayArgs, upstream: Upstream | undefined): Promise<void> {
  // Loaded on use, not at start-up; frames arrive as batches (one async step per frame).
  const { applyRecords } = await import('../replica/index.js');
  const { readBatches } = await import('../stream/inputs.js');
  // Volume mode (a file or block device ROOT, or a volume stream): src/replica/volume.ts.
  const { routeReplay, applyVolume } = await import('../replica/volume.js');
  const onDurable = upstream === undefined ? undefined : (source: string, seq: number) => upstream.ack(source, seq);
  const fsync = argv.fsync ?? argv.ack;
  const input = await routeReplay(argv.root, readBatches(argv.files ?? []));
  if (input.volume) {
    const stats = await applyVolume(input.records, argv.root, { dryRun: argv.dryRun, fsync, verbose: argv.verbose, force: argv.force, state: argv.state, onDurable });
    if (argv.verbose) process.stderr.write(`rill replay: ${summary(stats)}\n`);
    return;
  }
  if (argv.state !== undefined) throw new RillError('usage', '--state FILE is for volume targets (a file or block device); a tree replica keeps its progress in ROOT/.rill/state.json');
  const stats = await applyRecords(input.records, argv.root, {
    dryRun: argv.dryRun,
    owner: argv.owner,
    fsync,
    verbose: argv.verbose,
    force: argv.force,
    onDurable,
  });
  if (argv.verbose) process.stderr.write(`rill replay: ${summary(stats)}\n`);
}
