// rill undump: JSON lines (as rill dump --data prints them) -> stream.
import type { CommandModule } from 'yargs';
import { once } from 'node:events';
import split2 from 'split2';
import { run } from '../cli-run.js';
import { encodeTo } from '../cli-encode.js';
import { RillError } from '../errors.js';
import type { StreamEncoder } from '../stream/encode.js';
import { recordFromJson } from '../stream/json.js';
import { WireError } from '../stream/wire.js';
import type { StreamRecord } from '../stream/events.js';

interface UndumpArgs {
  files: string[];
  output?: string;
}

export const undumpCommand: CommandModule<object, UndumpArgs> = {
  command: 'undump [files..]',
  describe: 'turn JSON lines (rill dump --data) back into a stream',
  builder: (y) =>
    y
      .positional('files', { type: 'string', array: true, default: [], describe: "JSON-lines files to read in order ('-' or none: stdin)" })
      .option('output', { alias: 'o', type: 'string', describe: 'write the stream to FILE (complete or not at all) instead of stdout' })
      .example('rill dump --data a.rill | jq -c \'select(.type!="note")\' | rill undump > b.rill', 'edit a stream with jq'),
  handler: (argv) =>
    run('undump', async () => {
      await encodeTo(argv.output, undefined, (encoder) => feed(encoder, argv.files.length === 0 ? ['-'] : argv.files));
    }),
};

async function feed(encoder: StreamEncoder, files: string[]): Promise<void> {
  const { inputError, openInput } = await import('../stream/inputs.js');
  let inStream = false;
  for (const file of files) {
    const input = file === '-' ? 'stdin' : file;
    let line = 0;
    const src = openInput(file);
    const lines = src.pipe(split2());
    src.once('error', (err) => lines.destroy(inputError(file, err) as Error));
    for await (const text of lines as AsyncIterable<string>) {
      line++;
      if (text.trim() === '') continue;
      const rec = parseLine(text, input, line);
      if (rec.type === 'header') {
        if (inStream) throw lineError(input, line, 'a header record before the previous stream\'s end record');
        inStream = true;
      } else if (!inStream) {
        throw lineError(input, line, `a ${rec.type} record before any header record`);
      } else if (rec.type === 'end') {
        inStream = false;
      }
      if (!encoder.write(rec)) await once(encoder, 'drain');
    }
  }
  if (inStream) throw new RillError('stream', 'the input ends inside a stream: the last header has no end record', { input: files.at(-1) === '-' ? 'stdin' : files.at(-1) });
}

function parseLine(text: string, input: string, line: number): StreamRecord {
  let obj: unknown;
  try {
    obj = JSON.parse(text);
  } catch (err) {
    throw lineError(input, line, `not JSON (${(err as Error).message})`);
  }
  try {
    return recordFromJson(obj);
  } catch (err) {
    if (err instanceof WireError) throw lineError(input, line, err.message);
    throw err;
  }
}

function lineError(input: string, line: number, message: string): RillError {
  return new RillError('stream', `line ${line}: ${message}`, { input });
}
