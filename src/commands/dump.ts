// rill dump: stream -> JSON lines, one record a line (for people, jq and tests).
import type { CommandModule } from 'yargs';
import { run } from '../cli-run.js';
import { recordToJson } from '../stream/json.js';
import { writeLine, endOutput } from '../cli-lines.js';

interface DumpArgs {
  files: string[];
  data: boolean;
  events: boolean;
}

export const dumpCommand: CommandModule<object, DumpArgs> = {
  command: 'dump [files..]',
  describe: 'print a stream as JSON lines, one record a line',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, default: [], describe: "stream files to read in order ('-' or none: stdin)" })
      .option('data', { type: 'boolean', default: false, describe: 'include write payloads as base64 (otherwise their length and sha256)' })
      .option('events', { type: 'boolean', default: false, describe: 'print events only, not the header and end records' })
      .example('rill dump full.rill | jq -c \'select(.type=="write")\'', 'list the writes of a stream')
      .example('rill dump --data a.rill | rill undump > b.rill', 'a stream through JSON and back'),
  handler: (argv) =>
    run('dump', async () => {
      const { readRecords } = await import('../stream/inputs.js'); // loaded on use: cheap start-up
      for await (const rec of readRecords(argv.files)) {
        if (argv.events && (rec.type === 'header' || rec.type === 'end')) continue;
        await writeLine(JSON.stringify(recordToJson(rec, { data: argv.data })));
      }
      await endOutput();
    }),
};
