/** lora-affinity-scorer: 1 running, 0.8 free slot, 0.6 waiting, else 0; base-model requests score 1 everywhere. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointBuilder } from '../framework/test-fixtures.js';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { LoraAffinityScorer } from './lora-affinity-scorer.js';

describe('lora-affinity-scorer', () => {
  const ep = (i: number, set: (b: EndpointBuilder) => EndpointBuilder) => set(endpoint(`10.0.0.${i}`)).build();
  const cases: { name: string; model: string | undefined; eps: ((b: EndpointBuilder) => EndpointBuilder)[]; want: number[] }[] = [
    {
      name: 'running > free slot > waiting > full',
      model: 'sql-lora',
      eps: [
        (b) => b.loras(['sql-lora'], [], 2),
        (b) => b.loras(['other'], [], 2),
        (b) => b.loras(['a', 'b'], ['sql-lora'], 2),
        (b) => b.loras(['a', 'b'], [], 2),
      ],
      want: [1, 0.8, 0.6, 0],
    },
    { name: 'running wins even with no free slot', model: 'x', eps: [(b) => b.loras(['x', 'y'], ['z'], 2)], want: [1] },
    { name: 'no metrics: 0', model: 'x', eps: [(b) => b.adapters('base', 'x'), (b) => b.loras(['x'], [], 1)], want: [0, 1] },
    {
      name: 'a base model needs no slot: all 1',
      model: 'base',
      eps: [(b) => b.serves('base').loras(['a', 'b'], [], 2), (b) => b.serves('base').loras([], [], 2)],
      want: [1, 1],
    },
    { name: 'an adapter known only from /v1/models', model: 'x', eps: [(b) => b.adapters('base', 'x').loras([], [], 0), (b) => b.loras([], [], 1)], want: [0, 0.8] },
    { name: 'no model: all 1', model: undefined, eps: [(b) => b.loras([], [], 0)], want: [1] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const eps = c.eps.map((set, i) => ep(i + 1, set));
      assert.deepEqual(Array.from(new LoraAffinityScorer().score(context(request({ model: c.model })), eps)), c.want);
    });
  }
});
