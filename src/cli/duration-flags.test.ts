/** Every duration flag of `serve` and `extproc` stops at the longest timer Node.js keeps, rather than firing at once. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, InvalidArgumentError } from 'commander';
import { registerExtprocCommand } from './extproc.js';
import { registerServeCommand } from './serve.js';

test('every <duration> flag takes 596h and refuses 600h naming the limit (a longer timer fired after 1 ms: --upstream-timeout 600h cut every request)', () => {
  const program = new Command('infergate');
  registerServeCommand(program);
  registerExtprocCommand(program);
  let checked = 0;
  for (const cmd of program.commands) {
    for (const option of cmd.options.filter((o) => o.flags.endsWith('<duration>'))) {
      const name = `${cmd.name()} ${option.long ?? option.flags}`;
      assert.ok(option.parseArg, name);
      assert.equal(option.parseArg('596h', undefined), 596 * 3_600_000, name);
      assert.throws(() => option.parseArg!('600h', undefined), (e: unknown) => e instanceof InvalidArgumentError && /must be at most 596h .*got "600h"/.test(e.message), name);
      assert.throws(() => option.parseArg!('2147483648', undefined), InvalidArgumentError, name);
      checked++;
    }
  }
  // serve: 3 connection, 5 upstream, 2 probe, 1 external picker, 2 shutdown, 1 settle; extproc: 2 shutdown, 1 settle.
  assert.ok(checked >= 17, `only ${checked} duration flags found`);
});
