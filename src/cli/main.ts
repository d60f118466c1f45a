#!/usr/bin/env node
/** The `infergate` command: argv -> one of the subcommands. */
import { Command } from 'commander';
import { registerBenchCommand } from './bench.js';
import { registerDemoCommand } from './demo.js';
import { registerExplainCommand } from './explain.js';
import { registerExtprocCommand } from './extproc.js';
import { registerKeysCommand } from './keys.js';
import { registerServeCommand } from './serve.js';
import { registerSimCommand } from './sim.js';
import { registerValidateCommand } from './validate.js';

const program = new Command('infergate')
  .description('An inference gateway for self-hosted LLM fleets: body-based routing and endpoint picking from Kubernetes YAML')
  .version('0.1.0');
registerServeCommand(program);
registerExtprocCommand(program);
registerExplainCommand(program);
registerValidateCommand(program);
registerSimCommand(program);
registerDemoCommand(program);
registerBenchCommand(program);
registerKeysCommand(program);
await program.parseAsync(process.argv);
