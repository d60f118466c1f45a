/**
 * The Scorer contract, run against every registered scorer (with default parameters): one score per
 * endpoint, each in [0, 1]; inputs untouched; the same inputs give the same scores.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isScorer } from '../framework/plugin.js';
import { context } from '../framework/test-fixtures.js';
import { candidateSets, contractInstance, requests, snapshot } from './contract-fixtures.js';
import { registerBuiltins } from './register-builtins.js';

const registry = registerBuiltins();
const scorerTypes = registry.types().filter((t) => isScorer(contractInstance(registry, t)));

test('every scorer type is covered', () => {
  assert.deepEqual(scorerTypes, [
    'active-request-scorer',
    'context-length-aware',
    'kv-cache-utilization-scorer',
    'load-aware-scorer',
    'lora-affinity-scorer',
    'no-hit-lru-scorer',
    'precise-prefix-cache-scorer',
    'prefix-cache-scorer',
    'queue-scorer',
    'running-requests-size-scorer',
    'session-affinity-scorer',
    'token-load-scorer',
  ]);
});

for (const type of scorerTypes) {
  describe(`Scorer contract: ${type}`, () => {
    for (const set of candidateSets()) {
      for (const req of requests(set.endpoints[0])) {
        test(`${set.name}, ${req.name}`, () => {
          const scorer = registry.create(type, type);
          if (!isScorer(scorer)) throw new Error('not a scorer');
          const eps = set.endpoints;
          const order = [...eps];
          const before = snapshot(eps);
          const first = Array.from(scorer.score(context(req.request), eps));
          assert.equal(first.length, eps.length, 'one score per endpoint');
          for (const s of first) assert.ok(Number.isFinite(s) && s >= 0 && s <= 1, `score ${s} not in [0, 1]`);
          assert.equal(snapshot(eps), before, 'endpoints unchanged');
          assert.deepEqual(eps, order, 'candidate list unchanged');
          assert.deepEqual(Array.from(scorer.score(context(req.request), eps)), first, 'same inputs, same scores');
        });
      }
    }
  });
}
