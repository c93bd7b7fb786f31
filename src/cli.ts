// The yargs root: global options, every command of the contract, completion, version.
import { readFileSync } from 'node:fs';
import yargs from 'yargs';
import { EXIT } from './cli-run.js';
import { captureCommand } from './commands/capture.js';
import { replayCommand } from './commands/replay.js';
import { shipCommand } from './commands/ship.js';
import { sortMergeCommand } from './commands/sort-merge.js';
import { verifyCommand } from './commands/verify.js';
import { dumpCommand } from './commands/dump.js';
import { undumpCommand } from './commands/undump.js';
import { freezeCommand } from './commands/freeze.js';
import { bookmarkCommand } from './commands/bookmark.js';

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function main(argv: string[]): void {
  const cli = yargs(argv)
    .scriptName('rill')
    .usage('rill COMMAND [options]\n\nReplicate Linux file systems through one open event stream (see rill(1), rill-stream(5)).')
    .command(captureCommand)
    .command(freezeCommand)
    .command(bookmarkCommand)
    .command(shipCommand)
    .command(sortMergeCommand)
    .command(replayCommand)
    .command(dumpCommand)
    .command(undumpCommand)
    .command(verifyCommand)
    .completion('completion', 'print a bash/zsh completion script (source it from your shell rc)')
    .demandCommand(1, 'name a command: rill --help lists them')
    .recommendCommands()
    .strict()
    .version(version())
    .alias('h', 'help')
    .alias('V', 'version')
    .wrap(Math.min(100, process.stderr.columns ?? 100))
    .epilogue('Exit codes: 0 ok, 1 different / not reached, 2 usage, 3 bad stream, 4 refused as unsafe, 5 I/O error, 6 not built yet, 7 does not fit, 8 in use (locked by another process), 141 output pipe closed.')
    .fail((msg, err) => {
      if (err) throw err;
      process.stderr.write(`rill: ${msg}\nTry 'rill --help' (or 'rill COMMAND --help').\n`);
      process.exit(EXIT.usage);
    });
  void cli.parseAsync();
}
