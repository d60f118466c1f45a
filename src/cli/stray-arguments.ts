/** Words after a `-f` command that no flag takes: most often the configuration given without its `-f`. */
import type { Command } from 'commander';
import { USAGE_EXIT_CODE } from './parse-flags.js';

/**
 * Makes `infergate serve config.yaml` (or `serve -f *.yaml`, which the shell expands to several files) a usage
 * error that says what to write, where commander said only "too many arguments for 'serve'. Expected 0 arguments
 * but got 1". Only for commands with `-f, --file`.
 */
export function refuseStrayArguments(cmd: Command): void {
  if (cmd.options.every((o) => o.short !== '-f')) return;
  cmd.allowExcessArguments(true).hook('preAction', (self) => {
    const [first] = self.args;
    if (first === undefined) return;
    const name = `infergate ${self.name()}`;
    const hint = self.getOptionValueSource('file') === 'cli'
      ? `-f takes one path, a YAML file or a directory of .yaml files (a shell glob such as -f *.yaml gives several: name their directory instead)`
      : `${name} reads its configuration from -f: ${name} -f ${first}`;
    self.error(`error: unexpected argument '${first}'; ${hint}`, { exitCode: USAGE_EXIT_CODE, code: 'infergate.strayArgument' });
  });
}
