// rill sort-merge [FILE...]: options → sortMerge(inputs) → exit code (see man/rill-sort-merge.1).
import { tmpdir } from 'node:os';
import type { CommandModule } from 'yargs';
import { onEarlyExit, run } from '../cli-run.js';
import { parseSize } from '../cli-units.js';
import type { SortMergeStats } from '../merge/index.js';

interface SortMergeArgs {
  files?: string[];
  output?: string;
  memory: string;
  tmpdir?: string;
  squash?: boolean;
  allowMultipleSources?: boolean;
  verbose?: boolean;
}

/** The --verbose summary line. */
function summary(s: SortMergeStats): string {
  const mib = (n: number): string => (n / 1048576).toFixed(1);
  const spilled = s.store.runs > 0 ? `, ${mib(s.store.spilledBytes)} MiB spilled in ${s.store.runs} runs (${s.store.merges} merges)` : '';
  const joined = s.merge.renamesJoined > 0 ? `, ${s.merge.renamesJoined} renames joined` : '';
  const fell = s.merge.fallbacks > 0 ? `, ${s.merge.fallbacks} events passed as they were` : '';
  return `${s.merge.events} events in, ${s.output.events} out (${mib(s.output.writeBytes)} MiB of writes), ${s.merge.windows} windows${spilled}${joined}${fell}, ${s.seconds.toFixed(2)} s`;
}

/** The `rill sort-merge` command module; why: registered by src/cli.ts like every command. */
export const sortMergeCommand: CommandModule<object, SortMergeArgs> = {
  command: 'sort-merge [files..]',
  describe: 'consolidate streams: coalesce changes, merge increments and nodes, in bounded memory',
  builder: (y) =>
    y
      .usage(
        'rill sort-merge [options] [INPUT...]\n\n' +
          'Read rill streams (stream files, journal directories such as a ship --sink inbox, or stdin when none or "-") and write one stream that replays to the same tree: ' +
          'writes to the same bytes, repeated metadata changes, files made and removed, renames of new files coalesced. ' +
          'Increments of one source are put in seq order (a gap is refused, re-sent events dropped); streams of several nodes ' +
          'are merged by time; a full stream with its increments makes a full stream. Bookmarks are kept, and nothing is coalesced across one.\n\n' +
          'Exit 0 ok, 2 usage, 3 corrupt or truncated input, 5 I/O error (e.g. --tmpdir full), 7 inputs that do not fit together ' +
          '(a gap in seq, several sources). See rill-sort-merge(1).',
      )
      .positional('files', { type: 'string', array: true, describe: 'stream files or journal directories ("-" = stdin; default stdin); increments in any order' })
      .option('output', { alias: 'o', type: 'string', requiresArg: true, describe: 'write to FILE (under a temporary name, renamed when complete) instead of stdout' })
      .option('memory', { type: 'string', default: '256M', requiresArg: true, describe: 'memory budget (K, M, G suffixes); file data beyond about 3/8 of it is spilled to --tmpdir' })
      .option('tmpdir', { type: 'string', requiresArg: true, describe: 'directory for spilled data (default $TMPDIR or /tmp)' })
      .option('squash', { type: 'boolean', describe: 'keep only the last bookmark and coalesce across the others (reads the inputs twice)' })
      .option('allow-multiple-sources', { type: 'boolean', describe: 'merge streams of different sources (by time) into a stream of a new source' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'print a summary line on stderr' })
      .example('rill sort-merge /backup/inbox/home/*.rill | rill replay /backup/home', '')
      .example('rill sort-merge full-monday.rill inc-*.rill --output full-sunday.rill', 'a synthetic full stream'),
  handler: (argv) =>
    run('sort-merge', async () => {
      const memory = parseSize(argv.memory, '--memory', 64 * 1024, 2 ** 50);
      const { sortMerge } = await import('../merge/index.js'); // loaded on use: cheap start-up
      const stats = await sortMerge({
        inputs: argv.files ?? [],
        output: argv.output,
        memory,
        tmpdir: argv.tmpdir ?? tmpdir(),
        squash: argv.squash,
        allowMultipleSources: argv.allowMultipleSources,
        onEarlyExit,
      });
      if (argv.verbose) process.stderr.write(`rill sort-merge: ${summary(stats)}\n`);
    }),
};
