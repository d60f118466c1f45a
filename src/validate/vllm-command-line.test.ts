/** servedByArgv: model-server command lines -> the base model names and adapters they serve. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { servedByArgv, servedByContainers } from './vllm-command-line.js';

const CASES: Array<[string, string[], { bases: string[]; adapters: string[] } | undefined]> = [
  ['--model', ['--model', 'google/gemma-2b-it', '--port', '8000'], { bases: ['google/gemma-2b-it'], adapters: [] }],
  ['--model=', ['--model=google/gemma-2b-it'], { bases: ['google/gemma-2b-it'], adapters: [] }],
  ['vllm serve MODEL', ['vllm', 'serve', 'meta-llama/Llama-3.1-8B-Instruct', '--max-loras', '4'], { bases: ['meta-llama/Llama-3.1-8B-Instruct'], adapters: [] }],
  ['--served-model-name takes every name it is given', ['--model', '/models/gemma', '--served-model-name', 'gemma', 'gemma-2b', '--port', '8000'], { bases: ['gemma', 'gemma-2b'], adapters: [] }],
  [
    '--lora-modules: name=path pairs and JSON objects, until the next flag',
    ['--model', 'm', '--enable-lora', '--lora-modules', 'sql=/a/sql', '{"name": "chat", "path": "/a/chat", "base_model_name": "m"}', '--port', '8000'],
    { bases: ['m'], adapters: ['sql', 'chat'] },
  ],
  ['python -m vllm.entrypoints.openai.api_server', ['python3', '-m', 'vllm.entrypoints.openai.api_server', '--model', 'm'], { bases: ['m'], adapters: [] }],
  ['no model: not a model server', ['--port', '8000', '--vllm-port', '8001'], undefined],
];

test('servedByArgv', () => {
  for (const [name, argv, want] of CASES) assert.deepEqual(servedByArgv(argv), want, name);
});

test('servedByContainers reads command and args, and takes the first container that runs a model server', () => {
  const containers = [
    { name: 'routing-sidecar', args: ['--port', '8000', '--vllm-port', '8001'] },
    { name: 'vllm', command: ['vllm', 'serve'], args: ['microsoft/Phi-3-mini-4k-instruct', '--port', '8001'] },
  ];
  assert.deepEqual(servedByContainers(containers), { bases: ['microsoft/Phi-3-mini-4k-instruct'], adapters: [] });
  assert.deepEqual(servedByContainers([{ command: ['/bin/sh', '-c', 'exec vllm serve google/gemma-2b-it --port 8000'] }]), { bases: ['google/gemma-2b-it'], adapters: [] });
  assert.equal(servedByContainers(undefined), undefined);
  assert.equal(servedByContainers([{ image: 'nginx' }]), undefined);
});
