/** `--config-settle-period` reads a duration as every other timing flag does, and whole milliseconds as before. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, InvalidArgumentError } from 'commander';
import { registerExtprocCommand } from './extproc.js';
import { registerServeCommand } from './serve.js';

test('serve and extproc take --config-settle-period 30s, 2m or 45000 (ms), and refuse what is neither', () => {
  const program = new Command('infergate');
  registerServeCommand(program);
  registerExtprocCommand(program);
  for (const cmd of program.commands) {
    const option = cmd.options.find((o) => o.long === '--config-settle-period');
    assert.ok(option?.parseArg, `${cmd.name()} has --config-settle-period`);
    assert.equal(option.flags, '--config-settle-period <duration>');
    assert.equal(option.parseArg('30s', undefined), 30_000, `${cmd.name()} 30s`);
    assert.equal(option.parseArg('2m', undefined), 120_000, `${cmd.name()} 2m`);
    assert.equal(option.parseArg('45000', undefined), 45_000, `${cmd.name()} 45000`);
    assert.equal(option.parseArg('0', undefined), 0, `${cmd.name()} 0`);
    assert.throws(() => option.parseArg!('soon', undefined), (e: unknown) => e instanceof InvalidArgumentError && /"30s"/.test(e.message));
  }
  assert.deepEqual(program.commands.map((c) => c.name()), ['serve', 'extproc']);
});
