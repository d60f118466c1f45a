/** `--refresh-metrics-interval` and `--models-refresh-interval` read Go durations, as llm-d's flag does, and bare milliseconds as before. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command, InvalidArgumentError } from 'commander';
import { registerExtprocCommand } from './extproc.js';
import { registerServeCommand } from './serve.js';

const cases: { flag: string; min: number; default: string; given: [string, number][] }[] = [
  // llm-d's EPP: --refresh-metrics-interval=50ms (a time.Duration); its charts write 50ms, 100ms, 1s.
  { flag: '--refresh-metrics-interval', min: 1, default: '50ms', given: [['50ms', 50], ['1s', 1000], ['250', 250], ['1ms', 1]] },
  { flag: '--models-refresh-interval', min: 100, default: '5s', given: [['5s', 5000], ['1m', 60_000], ['5000', 5000], ['100ms', 100]] },
];

test('serve and extproc take the refresh intervals as durations (50ms, 5s) or whole milliseconds, and refuse the rest naming what is accepted', () => {
  const program = new Command('infergate');
  registerServeCommand(program);
  registerExtprocCommand(program);
  for (const cmd of program.commands) {
    for (const c of cases) {
      const option = cmd.options.find((o) => o.long === c.flag);
      const name = `${cmd.name()} ${c.flag}`;
      assert.ok(option?.parseArg, name);
      assert.equal(option.flags, `${c.flag} <duration>`, name);
      assert.equal(option.defaultValueDescription, c.default, `${name}: --help shows the default as a duration`);
      for (const [text, ms] of c.given) assert.equal(option.parseArg(text, undefined), ms, `${name} ${text}`);
      for (const bad of ['fast', '', '-1s', `${c.min - 1}`]) {
        assert.throws(() => option.parseArg!(bad, undefined), (e: unknown) => e instanceof InvalidArgumentError && /a duration such as .* got /.test(e.message), `${name} ${JSON.stringify(bad)}`);
      }
    }
  }
  assert.deepEqual(program.commands.map((c) => c.name()), ['serve', 'extproc']);
});
