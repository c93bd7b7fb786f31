// Commands of the contract whose implementation lands in a later issue: registered, honest, non-zero.
import type { CommandModule } from 'yargs';
import { RillError } from './errors.js';
import { run } from './cli-run.js';

export function notBuilt(command: string, describe: string, issue: string): CommandModule {
  return {
    command: `${command} [args..]`,
    describe: `${describe} (not built yet: ${issue})`,
    builder: (y) => y.strict(false),
    handler: () =>
      run(command, async () => {
        throw new RillError('unimplemented', `'rill ${command}' is not built yet (${issue}); see 'rill --help' for the commands that are`);
      }),
  };
}
