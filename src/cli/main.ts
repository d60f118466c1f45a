#!/usr/bin/env node
/** The `infergate` command: argv -> one of the subcommands. */
import { createRequire } from 'node:module';
import { Command } from 'commander';
import { registerBenchCommand } from './bench.js';
import { registerDemoCommand } from './demo.js';
import { registerExplainCommand } from './explain.js';
import { registerExtprocCommand } from './extproc.js';
import { registerKeysCommand } from './keys.js';
import { registerServeCommand } from './serve.js';
import { registerSimCommand } from './sim.js';
import { registerValidateCommand } from './validate.js';
import { USAGE_EXIT_CODE } from './parse-flags.js';
import { refuseStrayArguments } from './stray-arguments.js';

/** The package's own version, so `--version` cannot drift from what npm installed (dist/src/cli/ -> the package root). */
const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

const program = new Command('infergate')
  .description('An inference gateway for self-hosted LLM fleets: body-based routing and endpoint picking from Kubernetes YAML')
  .version(version)
  // A new user's first `npx infergate` (no command) prints this help: it ends with where to start.
  .addHelpText('after', '\nStart with: infergate demo (a gateway in front of simulated vLLM pods, on http://127.0.0.1:8080); then README.md and docs/.');
registerServeCommand(program);
registerExtprocCommand(program);
registerExplainCommand(program);
registerValidateCommand(program);
registerSimCommand(program);
registerDemoCommand(program);
registerBenchCommand(program);
registerKeysCommand(program);
// A wrong flag, a bad flag value or an unknown command exits 2, as every usage error of infergate's own does
// (commander's default is 1, which `explain` and `validate` use for what they found, not for how they were called).
// Nested commands (`keys create`) too: commander gives each command its own override.
const everyCommand = (cmd: Command): Command[] => [cmd, ...cmd.commands.flatMap(everyCommand)];
for (const cmd of program.commands) refuseStrayArguments(cmd);
for (const cmd of everyCommand(program)) cmd.exitOverride((err) => process.exit(err.exitCode === 0 ? 0 : USAGE_EXIT_CODE));
await program.parseAsync(process.argv);
