// rill verify A B: options → verifyTrees → one line per difference → exit 0 identical, 1 different, 2 error.
import type { CommandModule } from 'yargs';
import { EXIT, reportError, run } from '../cli-run.js';
import { endOutput, writeLine } from '../cli-lines.js';
import type { Difference } from '../verify/difference.js';

/** verify's documented exit code for any error (unreadable tree, bad usage); other commands use 2..6. */
export const VERIFY_ERROR = 2;

interface VerifyArgs {
  a: string;
  b: string;
  json?: boolean;
  quiet?: boolean;
  owner: boolean;
  times: boolean;
  atime: boolean;
  xattrs: boolean;
  sparse: boolean;
  jobs: number;
}

async function verify(argv: VerifyArgs): Promise<number> {
  // Loaded on use, not at start-up.
  const { formatJson, formatText, summaryJson, summaryText } = await import('../verify/report.js');
  const { verifyTrees } = await import('../verify/verify.js');
  if (!Number.isInteger(argv.jobs) || argv.jobs < 1) {
    process.stderr.write(`rill verify: --jobs must be a whole number of at least 1, not '${argv.jobs}'\n`);
    return VERIFY_ERROR;
  }
  const format = argv.json ? formatJson : formatText;
  const sink = argv.quiet ? () => undefined : (d: Difference) => writeLine(format(d));
  const summary = await verifyTrees(argv.a, argv.b, {
    owner: argv.owner,
    times: argv.times,
    atime: argv.atime,
    xattrs: argv.xattrs,
    sparse: argv.sparse,
    jobs: argv.jobs,
    maxDifferences: argv.quiet ? 1 : Infinity,
  }, sink);
  if (argv.json) await writeLine(summaryJson(summary));
  await endOutput();
  if (!argv.json && !argv.quiet) process.stderr.write(`${summaryText(summary)}\n`);
  return summary.differences === 0 ? EXIT.ok : EXIT.different;
}

/** The `rill verify` command module; why: registered by src/cli.ts like every command. */
export const verifyCommand: CommandModule<object, VerifyArgs> = {
  command: 'verify <a> <b>',
  describe: 'compare two trees (or two files): names, type, content, size, mode, owner, mtime, xattrs, links, holes',
  builder: (y) =>
    y
      .usage('rill verify [options] A B\n\nCompare tree B against tree A and list every difference on stdout, one a line.\nExit 0 identical, 1 different, 2 error (an unreadable tree, a bad flag).')
      .positional('a', { type: 'string', demandOption: true, describe: 'the reference tree (or file)' })
      .positional('b', { type: 'string', demandOption: true, describe: 'the tree (or file) compared with A' })
      .option('json', { type: 'boolean', describe: 'one JSON object per difference a line, then a summary object' })
      .option('quiet', { alias: 'q', type: 'boolean', describe: 'print nothing; stop at the first difference; exit code only' })
      .option('owner', { type: 'boolean', default: true, describe: 'compare uid/gid (--no-owner skips)' })
      .option('times', { type: 'boolean', default: true, describe: 'compare mtimes in ns, symlinks and directories too (--no-times skips)' })
      .option('atime', { type: 'boolean', default: false, describe: 'also compare atimes (off: reading a tree changes them)' })
      .option('xattrs', { type: 'boolean', default: true, describe: 'compare extended attributes and ACLs (--no-xattrs skips)' })
      .option('sparse', { type: 'boolean', default: true, describe: 'compare data extents (holes) of files (--no-sparse skips)' })
      .option('jobs', { alias: 'j', type: 'number', default: 8, describe: 'files compared at once' })
      .conflicts('json', 'quiet')
      .example('rill verify /srv/data /mnt/copy && echo identical', '')
      .example('rill verify --json /srv/data /mnt/copy | jq -c \'select(.kind=="content")\'', ''),
  handler: (argv) =>
    run('verify', async () => {
      try {
        return await verify(argv);
      } catch (err) {
        const code = reportError('verify', err);
        return code === EXIT.pipe ? code : VERIFY_ERROR;
      }
    }),
};
