/** Every address and port a command listens on refuses an empty value (`--admin-host "$HOST"` with HOST unset). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, InvalidArgumentError } from 'commander';
import { registerDemoCommand } from './demo.js';
import { registerExtprocCommand } from './extproc.js';
import { registerServeCommand } from './serve.js';
import { registerSimCommand } from './sim.js';

test('--host, --admin-host and --admin-port refuse an empty value on every command that listens (Node binds "" to every interface)', () => {
  const program = new Command('infergate');
  for (const register of [registerServeCommand, registerExtprocCommand, registerDemoCommand, registerSimCommand]) register(program);
  const checked: string[] = [];
  for (const cmd of program.commands) {
    for (const flag of ['--host', '--admin-host', '--admin-port']) {
      const option = cmd.options.find((o) => o.long === flag);
      if (!option) continue;
      checked.push(`${cmd.name()} ${flag}`);
      assert.ok(option.parseArg, `${cmd.name()} ${flag} takes any value`);
      assert.throws(() => option.parseArg!('', undefined), InvalidArgumentError, `${cmd.name()} ${flag} ''`);
    }
  }
  assert.deepEqual(checked, ['serve --host', 'serve --admin-host', 'serve --admin-port', 'extproc --host', 'extproc --admin-host', 'extproc --admin-port', 'demo --host', 'demo --admin-host', 'demo --admin-port', 'sim --host']);
});
