/** The Filter contract, run against every registered filter: a subset of its input, in the same order, inputs untouched. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isFilter } from '../framework/plugin.js';
import { context } from '../framework/test-fixtures.js';
import { candidateSets, contractInstance, requests, snapshot } from './contract-fixtures.js';
import { registerBuiltins } from './register-builtins.js';

const registry = registerBuiltins();
const filterTypes = registry.types().filter((t) => isFilter(contractInstance(registry, t)));

test('every filter type is covered', () => {
  assert.deepEqual(filterTypes, ['by-label-selector', 'concurrency-detector', 'context-length-aware', 'decode-filter', 'encode-filter', 'header-based-testing-filter', 'label-selector-filter', 'prefill-filter', 'served-model-filter', 'session-affinity-filter', 'utilization-detector', 'utilization-filter']);
});

for (const type of filterTypes) {
  describe(`Filter contract: ${type}`, () => {
    for (const set of candidateSets()) {
      for (const req of requests(set.endpoints[0])) {
        test(`${set.name}, ${req.name}`, () => {
          const f = type.includes('label') ? registry.create(type, type, { matchLabels: { role: 'decode' } }) : contractInstance(registry, type);
          if (!isFilter(f)) throw new Error('not a filter');
          const eps = set.endpoints;
          const order = [...eps];
          const before = snapshot(eps);
          const kept = f.filter(context(req.request), eps);
          let last = -1;
          for (const ep of kept) {
            const i = eps.indexOf(ep);
            assert.ok(i > last, 'a subset, in input order, without repeats');
            last = i;
          }
          assert.equal(snapshot(eps), before);
          assert.deepEqual(eps, order);
        });
      }
    }
  });
}
