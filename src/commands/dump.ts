// rill dump: stream -> JSON lines, one record a line (for people, jq and tests).
import type { CommandModule } from 'yargs';
import { run } from '../cli-run.js';
import { recordToJson } from '../stream/json.js';
import { writeLine, endOutput } from '../cli-lines.js';
import type { BookmarkEvent, StreamRecord } from '../stream/events.js';

interface DumpArgs {
  files: string[];
  data: boolean;
  events: boolean;
  bookmarks: boolean;
}

export const dumpCommand: CommandModule<object, DumpArgs> = {
  command: 'dump [files..]',
  describe: 'print a stream as JSON lines, one record a line',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, default: [], describe: "stream files or journal directories to read in order ('-' or none: stdin)" })
      .option('data', { type: 'boolean', default: false, describe: 'include write payloads as base64 (otherwise their length and sha256)' })
      .option('events', { type: 'boolean', default: false, describe: 'print events only, not the header and end records' })
      .option('bookmarks', { type: 'boolean', default: false, describe: 'list the bookmarks only, one JSON line each (source, seq, name, wall, time, consistent)' })
      .example('rill dump full.rill | jq -c \'select(.type=="write")\'', 'list the writes of a stream')
      .example('rill dump --data a.rill | rill undump > b.rill', 'a stream through JSON and back')
      .example('rill dump --bookmarks /var/lib/rill/data', 'the bookmarks a journal holds'),
  handler: (argv) =>
    run('dump', async () => {
      try {
        if (argv.bookmarks) return await listBookmarks(argv.files);
        for await (const [, rec] of records(argv.files)) {
          if (argv.events && (rec.type === 'header' || rec.type === 'end')) continue;
          await writeLine(JSON.stringify(recordToJson(rec, { data: argv.data })));
        }
      } finally {
        // the whole records before a torn or corrupt frame are printed, then the error says where
        await endOutput();
      }
    }),
};

/** The records of the stream files, stdin ('-', or none) or journal directories, in order, with the input they came from. */
async function* records(files: string[]): AsyncGenerator<[string, StreamRecord]> {
  const { statSync } = await import('node:fs');
  const { readBatches } = await import('../stream/inputs.js'); // loaded on use: cheap start-up
  const { readJournal } = await import('../journal/index.js');
  for (const name of files.length === 0 ? ['-'] : files) {
    let isDir = false;
    try {
      isDir = name !== '-' && statSync(name).isDirectory();
    } catch {
      // readBatches names a missing file
    }
    for await (const batch of isDir ? readJournal(name) : readBatches([name])) {
      for (const rec of batch) yield [name, rec];
    }
  }
}

/** --bookmarks: one line per bookmark of the stream files, stdin or journal directories, in order. */
async function listBookmarks(files: string[]): Promise<void> {
  let source = '';
  for await (const [name, rec] of records(files)) {
    if (rec.type === 'header') source = rec.source;
    else if (rec.type === 'bookmark') await writeLine(JSON.stringify(bookmarkLine(rec, source, name)));
  }
}

/** The JSON object printed for a bookmark. */
function bookmarkLine(b: BookmarkEvent, source: string, input: string): Record<string, unknown> {
  return {
    source,
    seq: b.seq,
    name: b.name,
    wall: b.wall.toString(),
    time: new Date(Number(b.wall / 1_000_000n)).toISOString(),
    consistent: b.consistent,
    input: input === '-' ? 'stdin' : input,
  };
}
