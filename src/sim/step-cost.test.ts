/** Table tests for the step-time formula. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StepWork } from './step-cost.js';
import { seededRandom } from '../seeded-random.js';
import { DEFAULT_ENGINE_CONFIG } from './engine-config.js';
import { StepCost } from './step-cost.js';

test('stepMs = itl x loadFactor(batch) + prefill x tokens + lora load x adapters', () => {
  const base = { ...DEFAULT_ENGINE_CONFIG, maxNumSeqs: 5, itlMs: 10, prefillTimePerTokenMs: 0.1, timeFactorUnderLoad: 3, loraLoadTimeMs: 50 };
  const cases: Array<[string, StepWork, number]> = [
    ['one decode', { sequences: 1, prefillTokens: 0, adaptersLoaded: 0 }, 10],
    ['half-full batch', { sequences: 3, prefillTokens: 0, adaptersLoaded: 0 }, 20],
    ['full batch', { sequences: 5, prefillTokens: 0, adaptersLoaded: 0 }, 30],
    ['prefill adds per token', { sequences: 1, prefillTokens: 1000, adaptersLoaded: 0 }, 110],
    ['an adapter load', { sequences: 2, prefillTokens: 10, adaptersLoaded: 1 }, 15 + 1 + 50],
  ];
  const cost = new StepCost(base, Math.random);
  for (const [name, work, want] of cases) assert.ok(Math.abs(cost.stepMs(work) - want) < 1e-9, `${name}: ${cost.stepMs(work)} != ${want}`);
  assert.equal(new StepCost({ ...base, maxNumSeqs: 1 }, Math.random).loadFactor(1), 1);
});

test('jitter is seeded and truncated to within 70% of the mean', () => {
  const config = { ...DEFAULT_ENGINE_CONFIG, itlMs: 10, itlStdDevMs: 3, prefillTimePerTokenMs: 0 };
  const work = { sequences: 1, prefillTokens: 0, adaptersLoaded: 0 };
  const sample = (seed: number): number[] => {
    const cost = new StepCost(config, seededRandom(seed));
    return Array.from({ length: 500 }, () => cost.stepMs(work));
  };
  const a = sample(7);
  assert.deepEqual(sample(7), a);
  assert.ok(a.every((x) => x >= 3 && x <= 17));
  const mean = a.reduce((s, x) => s + x, 0) / a.length;
  assert.ok(Math.abs(mean - 10) < 0.5, `mean ${mean}`);
});
