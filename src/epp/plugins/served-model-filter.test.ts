/** served-model-filter: keeps endpoints listing the model; unlisted ones by llm-d's rules; empty -> 503 or fallback. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointBuilder } from '../framework/test-fixtures.js';
import { context, endpoint, request } from '../framework/test-fixtures.js';
import { ServedModelFilter, type OnMissing } from './served-model-filter.js';

describe('served-model-filter', () => {
  const setups: Record<string, (b: EndpointBuilder) => EndpointBuilder> = {
    base: (b) => b.serves('llama'),
    adapter: (b) => b.serves('llama').adapters('llama', 'sql'),
    other: (b) => b.serves('gemma'),
    unlisted: (b) => b,
  };
  const cases: { name: string; model: string | undefined; eps: (keyof typeof setups)[]; onMissing?: OnMissing; fallback?: boolean; want: number[] }[] = [
    { name: 'keeps endpoints listing the model', model: 'llama', eps: ['base', 'other', 'adapter'], want: [0, 2] },
    { name: 'unlisted endpoints pass for a base model', model: 'llama', eps: ['base', 'unlisted', 'other'], want: [0, 1] },
    { name: 'unlisted endpoints are dropped when some endpoint lists the model as an adapter', model: 'sql', eps: ['adapter', 'unlisted', 'base'], want: [0] },
    { name: 'onMissing: Fail drops unlisted endpoints', model: 'llama', eps: ['base', 'unlisted'], onMissing: 'Fail', want: [0] },
    { name: 'nothing serves it: empty, the request gets 503', model: 'mistral', eps: ['base', 'other'], want: [] },
    { name: 'fallbackOnEmpty returns every candidate', model: 'mistral', eps: ['base', 'other'], fallback: true, want: [0, 1] },
    { name: 'no model: unfiltered', model: undefined, eps: ['base', 'other', 'unlisted'], want: [0, 1, 2] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const eps = c.eps.map((k, i) => setups[k]?.(endpoint(`10.0.0.${i + 1}`)).build() ?? endpoint('x').build());
      const f = new ServedModelFilter('f', c.onMissing, c.fallback);
      // The filter caches an array's answer from its second sighting: this first one only makes it known.
      f.filter(context(request({ model: c.model })), eps);
      const kept = f.filter(context(request({ model: c.model })), eps);
      assert.deepEqual(kept.map((e) => eps.indexOf(e)), c.want);
      // Again, from the cache: the same answer.
      assert.deepEqual(f.filter(context(request({ model: c.model })), eps).map((e) => eps.indexOf(e)), c.want);
    });
  }

  test('the cached answer follows an endpoint whose model list changed', () => {
    const eps = [endpoint('10.0.0.1').serves('llama').build(), endpoint('10.0.0.2').serves('gemma').build()];
    const f = new ServedModelFilter();
    // Shown twice first, so that the answers below come from the cache, which must notice the change.
    f.filter(context(), eps);
    f.filter(context(), eps);
    assert.equal(f.filter(context(), eps).length, 1);
    eps[1]?.setModels([{ id: 'llama', parent: null }], 0);
    assert.equal(f.filter(context(), eps).length, 2);
  });
});
