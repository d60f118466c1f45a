/** no-hit-lru-scorer: cold requests go round the endpoints least recently used for cold requests; warm ones 0.5. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../datastore/endpoint.js';
import type { SchedulingContext } from '../framework/plugin.js';
import { context, endpoints, request } from '../framework/test-fixtures.js';
import { NoHitLruScorer } from './no-hit-lru-scorer.js';
import { PrefixCacheScorer } from './prefix-cache-scorer.js';
import { registerBuiltins } from './register-builtins.js';
import { loadEndpointPickerConfig } from '../config/load-endpoint-picker-config.js';

const [a, b, c] = endpoints(3) as [Endpoint, Endpoint, Endpoint];
const prompt = 'p'.repeat(256);

/** One request through prefix then no-hit-lru, picking `ep`; returns the no-hit-lru scores. */
function cycle(prefix: PrefixCacheScorer, lru: NoHitLruScorer, p: string, pick: Endpoint | undefined, eps = [a, b, c]): number[] {
  const ctx: SchedulingContext = context(request({ prompt: p }));
  prefix.score(ctx, eps);
  const scores = Array.from(lru.score(ctx, eps));
  if (pick) {
    prefix.preRequest(ctx, pick);
    prefix.flush();
    lru.preRequest(ctx, pick);
  }
  return scores;
}

describe('no-hit-lru-scorer', () => {
  test('cold requests: never-used first, then least recently used; warm requests: neutral 0.5', () => {
    const prefix = new PrefixCacheScorer();
    const lru = new NoHitLruScorer();
    const unique = (i: number) => `${i}`.repeat(256).slice(0, 256);
    assert.deepEqual(cycle(prefix, lru, unique(1), b), [1, 0.5, 0]);
    // b served a cold request: never-used a and c rank first (in candidate order), b last.
    assert.deepEqual(cycle(prefix, lru, unique(2), a), [1, 0, 0.5]);
    // a, then b, were used (a most recently): c never, then b, then a.
    assert.deepEqual(cycle(prefix, lru, unique(3), c), [0, 0.5, 1]);
    // A prompt a holds is warm: neutral, and the pick does not move the LRU.
    assert.deepEqual(cycle(prefix, lru, unique(2), b), [0.5, 0.5, 0.5]);
    // Cold again: b is the least recently used, then a, then c.
    assert.deepEqual(cycle(prefix, lru, unique(4), undefined), [0.5, 1, 0]);
  });

  const single: { name: string; eps: Endpoint[]; want: number[] }[] = [
    { name: 'one candidate scores 1', eps: [a], want: [1] },
    { name: 'no prefix state counts as cold', eps: [a, b], want: [1, 0] },
  ];
  for (const c0 of single) {
    test(c0.name, () => assert.deepEqual(Array.from(new NoHitLruScorer().score(context(request({ prompt })), c0.eps)), c0.want));
  }

  test('lruSize bounds the remembered endpoints; forget drops one', () => {
    const lru = new NoHitLruScorer('n', 'prefix-cache-scorer', 1);
    const ctx = context();
    lru.score(ctx, [a, b]);
    lru.preRequest(ctx, a);
    lru.preRequest(ctx, b);
    // Only b is remembered: a counts as never used.
    assert.deepEqual(Array.from(lru.score(context(), [a, b])), [1, 0]);
    lru.forget(b.address);
    assert.deepEqual(Array.from(lru.score(context(), [a, b])), [1, 0]);
  });

  test('parameters by llm-d names', () => {
    const s = registerBuiltins().create('no-hit-lru-scorer', 'n', { prefixPluginName: 'gpu-prefix', lruSize: 8 }) as NoHitLruScorer;
    assert.deepEqual([s.prefixPluginName, s.lruSize], ['gpu-prefix', 8]);
    assert.throws(() => registerBuiltins().create('no-hit-lru-scorer', 'n', { lruSize: -1 }), /lruSize: must be a positive integer/);
  });

  test("current llm-d's prefixMatchInfoProducerName: coldness by the producer's match info; prefixPluginType ignored", () => {
    const warnings: string[] = [];
    const s = registerBuiltins().create('no-hit-lru-scorer', 'n', { prefixMatchInfoProducerName: 'pp', prefixPluginType: 'prefix-cache-scorer' }, { warn: (w) => warnings.push(w) }) as NoHitLruScorer;
    assert.match(warnings.join('\n'), /parameters\.prefixPluginType is ignored/);
    assert.deepEqual(s.requiredData, [{ key: 'PrefixCacheMatchInfo/pp', field: 'prefixMatchInfoProducerName' }]);
    const info = (matches: [string, number][]) => ({ totalBlocks: 4, blockSizeTokens: 16, matches: new Map(matches), located: [], untrusted: new Map(), untrustedLocated: [] });
    const warm = context(request({ prompt }));
    warm.state.write('PrefixCacheMatchInfo/pp', info([[b.address, 2]]));
    assert.deepEqual(Array.from(s.score(warm, [a, b, c])), [0.5, 0.5, 0.5]);
    const cold = context(request({ prompt }));
    cold.state.write('PrefixCacheMatchInfo/pp', info([[b.address, 0]]));
    assert.deepEqual(Array.from(s.score(cold, [a, b, c])), [1, 0.5, 0]);
  });

  test('a config naming a precise producer loads; one naming an approximate producer reads the prefix scorer', () => {
    const head = 'apiVersion: llm-d.ai/v1alpha1\nkind: EndpointPickerConfig\nplugins:\n';
    const precise = loadEndpointPickerConfig(`${head}- type: token-producer\n- type: precise-prefix-cache-producer\n- {type: prefix-cache-scorer, parameters: {prefixMatchInfoProducerName: precise-prefix-cache-producer}}\n- {type: no-hit-lru-scorer, parameters: {prefixMatchInfoProducerName: precise-prefix-cache-producer}}\n`, { file: 'epp.yaml', registry: registerBuiltins() });
    assert.equal((precise.schedulerConfig.plugins.get('no-hit-lru-scorer') as NoHitLruScorer).prefixMatchInfoProducerName, 'precise-prefix-cache-producer');
    const approx = loadEndpointPickerConfig(`${head}- type: approx-prefix-cache-producer\n- type: prefix-cache-scorer\n- {type: no-hit-lru-scorer, parameters: {prefixMatchInfoProducerName: approx-prefix-cache-producer}}\n`, { file: 'epp.yaml', registry: registerBuiltins() });
    assert.equal((approx.schedulerConfig.plugins.get('no-hit-lru-scorer') as NoHitLruScorer).prefixMatchInfoProducerName, '');
    assert.deepEqual(approx.warnings, []);
  });
});
