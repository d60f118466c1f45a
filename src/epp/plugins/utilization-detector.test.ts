/** utilization-detector: drops saturated endpoints (fails open); poolSaturation for admission. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { EndpointBuilder } from '../framework/test-fixtures.js';
import { NOW, context, endpoint } from '../framework/test-fixtures.js';
import { registerBuiltins } from './register-builtins.js';
import { DEFAULT_SATURATION_THRESHOLDS, UtilizationDetector, poolSaturation } from './utilization-detector.js';

const ep = (i: number, set: (b: EndpointBuilder) => EndpointBuilder) => set(endpoint(`10.0.0.${i}`)).build();
const load = (waiting: number, kv: number, ageMs = 0) => (b: EndpointBuilder) => b.metrics({ waitingQueueSize: waiting, kvCacheUsagePercent: kv, updatedAt: NOW - ageMs });
const none = (b: EndpointBuilder) => b;

describe('poolSaturation', () => {
  const cases: { name: string; eps: ((b: EndpointBuilder) => EndpointBuilder)[]; level: number; saturated: boolean; stale?: number }[] = [
    { name: 'idle pool', eps: [load(0, 0), load(0, 0)], level: 0, saturated: false },
    { name: 'load is the worse of queue/5 and kv/0.8', eps: [load(5, 0.4), load(0, 0.4)], level: 0.75, saturated: false },
    { name: 'mean load 1 is saturated', eps: [load(5, 0), load(0, 0.8)], level: 1, saturated: true },
    { name: 'one hot endpoint does not saturate the pool', eps: [load(20, 0), load(0, 0), load(0, 0), load(0, 0), load(0, 0)], level: 0.8, saturated: false },
    { name: 'stale metrics (> 200 ms) count as saturated', eps: [load(0, 0, 201), load(0, 0)], level: 0.5, saturated: false, stale: 1 },
    { name: 'missing metrics count as saturated', eps: [none, none], level: 1, saturated: true, stale: 2 },
    { name: 'an empty pool is saturated (fail closed)', eps: [], level: 1, saturated: true },
  ];
  test("stalenessPolicy ignore: stale endpoints leave the mean; an all-stale pool reads 0 (llm-d's reading)", () => {
    const mixed = poolSaturation([ep(1, load(5, 0)), ep(2, load(0, 0, 500))], NOW, { ...DEFAULT_SATURATION_THRESHOLDS, stalenessPolicy: 'ignore' });
    assert.deepEqual(mixed, { level: 1, saturated: true, stale: 1 });
    const all = poolSaturation([ep(1, none), ep(2, load(0, 0, 500))], NOW, { ...DEFAULT_SATURATION_THRESHOLDS, stalenessPolicy: 'ignore' });
    assert.deepEqual(all, { level: 0, saturated: false, stale: 2 });
  });
  for (const c of cases) {
    test(c.name, () => {
      const s = poolSaturation(c.eps.map((set, i) => ep(i + 1, set)), NOW);
      assert.equal(Math.round(s.level * 1e9) / 1e9, c.level);
      assert.equal(s.saturated, c.saturated);
      assert.equal(s.stale, c.stale ?? 0);
    });
  }
});

describe('utilization-detector filter', () => {
  const cases: { name: string; headroom?: number; eps: ((b: EndpointBuilder) => EndpointBuilder)[]; want: number[] }[] = [
    { name: 'drops endpoints at a threshold', eps: [load(4, 0.79), load(5, 0), load(0, 0.8)], want: [0] },
    { name: 'headroom relaxes the limits', headroom: 0.2, eps: [load(5, 0.9), load(6, 0), load(0, 0.96)], want: [0] },
    { name: 'drops stale and missing metrics', eps: [load(0, 0, 500), none, load(1, 0.1)], want: [2] },
    { name: 'keeps everything when nothing passes (fails open)', eps: [load(9, 0), none], want: [0, 1] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const eps = c.eps.map((set, i) => ep(i + 1, set));
      const kept = new UtilizationDetector('u', { headroom: c.headroom ?? 0 }).filter(context(), eps);
      assert.deepEqual(kept.map((e) => eps.indexOf(e)), c.want);
    });
  }

  test('parameters by llm-d names', () => {
    const u = registerBuiltins().create('utilization-detector', 'u', { queueDepthThreshold: 8, kvCacheUtilThreshold: 0.75, metricsStalenessThreshold: '150ms', headroom: 0.1 }) as UtilizationDetector;
    assert.deepEqual(u.thresholds, { queueDepthThreshold: 8, kvCacheUtilThreshold: 0.75, metricsStalenessThresholdMs: 150, headroom: 0.1, stalenessPolicy: 'saturated' });
    assert.throws(() => registerBuiltins().create('utilization-detector', 'u', { kvCacheUtilThreshold: 0 }), /kvCacheUtilThreshold: must be above 0/);
    assert.throws(() => registerBuiltins().create('utilization-detector', 'u', { metricsStalenessThreshold: '0s' }), /metricsStalenessThreshold: must be above 0/);
  });
});
