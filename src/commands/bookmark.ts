// rill bookmark NAME: a filter putting the bookmark into the stream passing by, or --control SOCK:
// asking a running capture --mount for one at its cut (see man/rill-bookmark.1).
import type { CommandModule } from 'yargs';
import { run } from '../cli-run.js';
import { parseDuration } from '../cli-units.js';
import { RillError } from '../errors.js';

interface BookmarkArgs {
  name: string;
  files?: string[];
  every?: string;
  consistent?: boolean;
  control?: string;
  timeout: string;
  verbose?: boolean;
}

export const bookmarkCommand: CommandModule<object, BookmarkArgs> = {
  command: 'bookmark <name> [files..]',
  describe: 'insert a named bookmark into a passing stream, or ask a running capture for one (--control)',
  builder: (y) =>
    y
      .usage(
        'rill bookmark [options] NAME [FILE...]\nrill bookmark --control SOCK NAME\n\n' +
          'As a filter, copy the rill stream from FILE... or stdin to stdout with bookmark NAME in place of its last commit ' +
          '(a filter cannot number a new record of the source, and a commit is the transaction boundary a bookmark is); with --every, ' +
          'in place of the first commit after each period instead. With --control, ask the rill capture --mount listening on SOCK to emit ' +
          'bookmark NAME at its current cut, and print its seq.\n\n' +
          'Names: 1 to 128 of A-Z a-z 0-9 . _ : @ + -, starting with a letter or digit; the same name may be used again ' +
          '(replay --until takes the first unless --last).\n\n' +
          'Exit 0 ok, 2 usage, 3 bad stream, or no commit to mark, 5 I/O error or no answer on the control socket, 8 the capture is busy. See rill-bookmark(1).',
      )
      .positional('name', { type: 'string', demandOption: true, describe: 'the bookmark name' })
      .positional('files', { type: 'string', array: true, describe: 'stream files, in order ("-" = stdin; default stdin)' })
      .option('every', { type: 'string', requiresArg: true, describe: 'mark the first commit after every DURATION (e.g. 15m) instead of the last one: for live streams' })
      .option('consistent', { type: 'boolean', describe: 'record the bookmark as consistent (the source was quiescent there; rill freeze does this for you)' })
      .option('control', { type: 'string', requiresArg: true, describe: 'ask the rill capture --mount listening on SOCK for the bookmark; print its seq' })
      .option('timeout', { type: 'string', default: '5s', describe: 'with --control: how long to wait for the capture\'s answer' })
      .option('verbose', { alias: 'v', type: 'boolean', describe: 'report each bookmark put in on stderr' })
      .example('rill capture --scan /data | rill bookmark before-upgrade | ssh b rill replay /data', '')
      .example('rill capture --mount /srv --journal J | rill bookmark --every 1h hourly | rill replay /replica', '')
      .example('rill bookmark --control /run/rill/data.sock deploy-42', ''),
  handler: (argv) => run('bookmark', () => bookmarkMain(argv)),
};

async function bookmarkMain(argv: BookmarkArgs): Promise<void> {
  const { checkBookmarkName } = await import('../freeze/names.js');
  const name = checkBookmarkName(argv.name, 'NAME');
  if (argv.control !== undefined) {
    if (argv.every !== undefined || (argv.files ?? []).length > 0) throw new RillError('usage', '--control asks a capture for one bookmark: it takes no --every and no FILE');
    const { ControlClient } = await import('../control/client.js');
    const timeoutMs = parseDuration(argv.timeout, '--timeout');
    const client = await ControlClient.connect(argv.control, timeoutMs);
    try {
      const r = await client.request({ op: 'bookmark', name, consistent: argv.consistent === true }, timeoutMs);
      process.stdout.write(`${r.seq}\n`);
      if (argv.verbose) process.stderr.write(`rill bookmark: ${JSON.stringify(name)} at seq ${r.seq}\n`);
    } finally {
      client.close();
    }
    return;
  }
  const everyMs = argv.every === undefined ? undefined : parseDuration(argv.every, '--every');
  const { readBatches } = await import('../stream/inputs.js');
  const { insertBookmarks } = await import('../freeze/insert.js');
  const { writeRecords } = await import('../freeze/stream-out.js');
  const records = insertBookmarks(readBatches(argv.files ?? []), {
    name,
    consistent: argv.consistent === true,
    everyMs,
    onBookmark: argv.verbose ? (b) => process.stderr.write(`rill bookmark: ${JSON.stringify(name)} at seq ${b.seq}\n`) : undefined,
  });
  await writeRecords(records, process.stdout);
}
