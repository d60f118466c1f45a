/** Tests for the `infergate sim` command in src/cli/sim.ts. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Command } from 'commander';
import type { SimFlags } from '../cli/sim.js';
import { registerSimCommand, simOptionsFromFlags } from '../cli/sim.js';

// Lives beside the simulator because the CLI folder is edited by others; it covers src/cli/sim.ts only.

const DEFAULTS: SimFlags = { model: 'm', host: '127.0.0.1', port: '8000', maxNumSeqs: '5', mode: 'random' };

test('simOptionsFromFlags turns flags into simulator options', () => {
  assert.deepEqual(
    simOptionsFromFlags({ ...DEFAULTS, lora: 'a, b,,c', podName: 'p', ttft: '12.5', itl: '0', mode: 'echo', port: '0' }),
    { model: 'm', loras: ['a', 'b', 'c'], host: '127.0.0.1', port: 0, maxNumSeqs: 5, mode: 'echo', podName: 'p', ttftMs: 12.5, itlMs: 0 },
  );
  assert.deepEqual(simOptionsFromFlags(DEFAULTS), {
    model: 'm',
    loras: [],
    host: '127.0.0.1',
    port: 8000,
    maxNumSeqs: 5,
    mode: 'random',
  });
});

test('simOptionsFromFlags names the bad flag', () => {
  const cases: Array<[Partial<SimFlags>, RegExp]> = [
    [{ port: 'abc' }, /--port must be an integer from 0 to 65535, got "abc"/],
    [{ port: '70000' }, /--port/],
    [{ port: '' }, /--port/],
    [{ maxNumSeqs: '0' }, /--max-num-seqs/],
    [{ maxNumSeqs: '2.5' }, /--max-num-seqs/],
    [{ ttft: '-1' }, /--ttft must be a number/],
    [{ itl: 'fast' }, /--itl/],
    [{ mode: 'loud' }, /--mode must be echo or random, got "loud"/],
  ];
  for (const [flags, message] of cases) {
    assert.throws(() => simOptionsFromFlags({ ...DEFAULTS, ...flags }), message, JSON.stringify(flags));
  }
});

test('registerSimCommand adds `sim` with its flags and defaults', () => {
  const program = new Command('infergate');
  registerSimCommand(program);
  const sim = program.commands.find((c) => c.name() === 'sim');
  assert.ok(sim);
  const flags = sim.options.map((o) => o.long);
  assert.deepEqual(flags, ['--model', '--lora', '--host', '--port', '--pod-name', '--max-num-seqs', '--ttft', '--itl', '--mode']);
  assert.equal(sim.options.find((o) => o.long === '--model')?.mandatory, true);
});
