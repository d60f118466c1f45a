/** baseModelOf: the model a pod's replayed blocks are keyed by before its first live message names one. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { baseModelOf } from './kv-cache-view.js';

test('the one base model the pod lists, adapters aside; none when unknown or ambiguous', () => {
  const card = (parent: string | null) => ({ parent });
  assert.equal(baseModelOf({ models: new Map([['meta-llama/Llama-3.1-8B-Instruct', card(null)], ['sql-lora', card('meta-llama/Llama-3.1-8B-Instruct')]]) }), 'meta-llama/Llama-3.1-8B-Instruct');
  assert.equal(baseModelOf({ models: new Map([['a', card(null)], ['b', card(null)]]) }), null, 'two bases: which one is unknowable');
  assert.equal(baseModelOf({ models: new Map([['sql-lora', card('base')]]) }), null);
  assert.equal(baseModelOf({ models: undefined }), null, 'not discovered yet');
  assert.equal(baseModelOf(undefined), null);
});
