/** Table tests for reading a Pod's vLLM container args into simulator options. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SimulatorOptions } from '../sim/simulator.js';
import { vllmArgs } from './demo-fleet.js';

test('vllmArgs maps the vLLM flags the simulator mirrors and ignores the rest', () => {
  const cases: Array<[string, string[], Partial<SimulatorOptions>]> = [
    ['model and port', ['--model', 'm', '--port=8001', '--enable-lora'], { model: 'm', port: 8001 }],
    ['served name wins', ['--model', 'path/m', '--served-model-name', 'm'], { model: 'm' }],
    // The second name was read as an unknown argument and dropped, so the demo's pod answered it 404.
    ['every served name is served', ['--served-model-name', 'm', 'meta/m', '--port', '8000'], { model: 'm', modelAliases: ['meta/m'], port: 8000 }],
    ['lora modules, name=path and JSON', ['--lora-modules', 'a=/x', '{"name":"b","path":"/y"}', '--max-loras', '2'], { loras: ['a', 'b'], maxLoras: 2 }],
    [
      'engine sizing',
      ['--max-num-seqs', '8', '--block-size=32', '--max-num-batched-tokens', '4096', '--num-gpu-blocks-override', '512', '--max-model-len', '8192'],
      { maxNumSeqs: 8, blockSize: 32, maxNumBatchedTokens: 4096, kvCacheSize: 512, maxModelLen: 8192 },
    ],
    ['prefix caching switched off', ['--no-enable-prefix-caching', '--model', 'm'], { enablePrefixCaching: false, model: 'm' }],
    ['prefix caching on takes no value', ['--enable-prefix-caching', '--model', 'm'], { enablePrefixCaching: true, model: 'm' }],
    ['prefix caching with an inline value', ['--enable-prefix-caching=false'], { enablePrefixCaching: false }],
    ['unknown flags ignored', ['--gpu-memory-utilization', '0.9', '--model', 'm'], { model: 'm' }],
    // As vLLM and `infergate sim` take it; the demo read NaN before.
    ['context length in vLLM\'s spelling', ['--max-model-len', '4k'], { maxModelLen: 4000 }],
    ['context length, binary', ['--max-model-len=32K'], { maxModelLen: 32_768 }],
  ];
  for (const [name, args, want] of cases) assert.deepEqual(vllmArgs(args), want, name);
});

test('vllmArgs refuses a number the simulator cannot take, naming the flag', () => {
  assert.throws(() => vllmArgs(['--max-num-seqs=abc']), /^Error: --max-num-seqs must be a whole number, got "abc"$/);
  assert.throws(() => vllmArgs(['--max-model-len', 'lots']), /--max-model-len must be a token count such as 2048 or 32k, got "lots"/);
});
