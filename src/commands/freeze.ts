// rill freeze [options] MOUNTPOINT [-- CMD ARGS...]: options → FsFreeze or ControlPause → freeze() → exit code (see man/rill-freeze.1).
import type { CommandModule } from 'yargs';
import { run } from '../cli-run.js';
import { parseDuration } from '../cli-units.js';
import { RillError } from '../errors.js';

interface FreezeArgs {
  mountpoint: string;
  timeout: string;
  pre?: string | string[];
  post?: string | string[];
  bookmark?: string;
  control?: string;
  force?: boolean;
  verbose?: boolean;
}

export const freezeCommand: CommandModule<object, FreezeArgs> = {
  command: 'freeze <mountpoint>',
  describe: 'quiesce a file system (FIFREEZE, or pause a capture --mount), mark a consistent point, run CMD, thaw',
  builder: (y) =>
    y
      .parserConfiguration({ 'populate--': true })
      .usage(
        'rill freeze [options] MOUNTPOINT [-- CMD [ARGS...]]\n\n' +
          'Run the --pre hooks, freeze the file system holding MOUNTPOINT (FIFREEZE; with --control, pause the capture --mount over it instead), ' +
          'run CMD while it is frozen, thaw, and run the --post hooks (also after a failure). A watchdog process thaws at the --timeout deadline ' +
          'even if rill freeze is killed; SIGINT, SIGTERM and SIGHUP thaw at once. Hooks and CMD see RILL_ROOT and RILL_BOOKMARK.\n\n' +
          '--bookmark NAME: with --control, the capture emits the bookmark at the cut; without, CMD must write a rill stream (rill capture --scan) ' +
          'on stdout, which freeze passes on with the bookmark in place of its last commit.\n\n' +
          'Exit 0 ok, 2 usage, 3 CMD\'s output is not a stream ending in a commit (--bookmark), 4 refused (the root file system, or one holding a journal, state or output written while frozen), ' +
          '5 cannot freeze / a hook failed / no answer on the control socket, 8 frozen or paused by someone else already, ' +
          '124 the deadline came first (thawed, CMD stopped), 129/130/143 stopped by a signal (thawed at once); otherwise CMD\'s own exit status. See rill-freeze(1).',
      )
      .positional('mountpoint', { type: 'string', demandOption: true, describe: 'a mount point, or a path on the file system to freeze' })
      .option('timeout', { type: 'string', default: '10s', describe: 'hard deadline of the frozen window (and of each hook): thawed by then whatever happens (e.g. 10s, 500ms, 2m)' })
      .option('pre', { type: 'string', requiresArg: true, describe: 'shell command run before freezing (application quiesce); repeatable, in order; a failure aborts' })
      .option('post', { type: 'string', requiresArg: true, describe: 'shell command run after thawing, also after a failure (RILL_FREEZE_STATUS=ok|failed); repeatable' })
      .option('bookmark', { type: 'string', requiresArg: true, describe: 'mark the frozen point as bookmark NAME (consistent) in the capture\'s stream' })
      .option('control', { type: 'string', requiresArg: true, describe: 'pause the rill capture --mount listening on SOCK instead of FIFREEZE' })
      .option('force', { type: 'boolean', describe: 'allow freezing the root file system /' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'report the freeze, the bookmark and the frozen time on stderr' })
      .example("rill freeze --control /run/rill/data.sock --pre 'psql -c CHECKPOINT' --bookmark nightly /srv/data", '')
      .example('rill freeze --timeout 10 --bookmark nightly /srv -- rill capture --scan --state /var/lib/rill/srv.state /srv > inc.rill', '')
      .example("rill freeze /srv -- lvcreate -s -n srv-snap -L 1G vg/srv", ''),
  handler: (argv) => run('freeze', () => freezeMain(argv), { ownSignals: true }),
};

async function freezeMain(argv: FreezeArgs): Promise<number> {
  const { checkBookmarkName } = await import('../freeze/names.js');
  const { freeze } = await import('../freeze/freeze.js');
  const { FsFreeze, ControlPause } = await import('../freeze/quiesce.js');
  const rest = ((argv as { '--'?: (string | number)[] })['--'] ?? []).map(String);
  const command = rest.length > 0 ? rest : undefined;
  const timeoutMs = parseDuration(argv.timeout, '--timeout');
  if (argv.bookmark !== undefined) checkBookmarkName(argv.bookmark, '--bookmark');
  if (argv.bookmark !== undefined && argv.control === undefined && command === undefined) {
    throw new RillError('usage', '--bookmark without --control needs -- CMD writing a rill stream on stdout (e.g. -- rill capture --scan ROOT): the bookmark takes the place of its last commit', {
      hint: 'or pass --control SOCK of the rill capture --mount over MOUNTPOINT',
    });
  }
  if (argv.control !== undefined && argv.force) throw new RillError('usage', '--force is for FIFREEZE; with --control nothing is frozen but the capture');
  const log = (line: string): void => void process.stderr.write(`rill freeze: ${line}\n`);
  let q;
  if (argv.control !== undefined) q = new ControlPause(argv.control, argv.mountpoint);
  else {
    const fs = new FsFreeze(argv.mountpoint, argv.force === true);
    if (fs.note !== undefined) log(fs.note);
    q = fs;
  }
  const r = await freeze(q, {
    timeoutMs,
    pre: list(argv.pre),
    post: list(argv.post),
    bookmark: argv.bookmark,
    command,
    out: process.stdout,
    log,
    verbose: argv.verbose === true,
  });
  return r.code;
}

/** A repeatable string flag as a list. */
function list(v: string | string[] | undefined): string[] {
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}
