/**
 * The Picker contract, run against every registered picker: picks one of the candidates (undefined only for
 * none), touches neither candidates nor totals; ranked picks are distinct candidates, at most maxNumOfEndpoints.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../../seeded-random.js';
import { isPicker } from '../framework/plugin.js';
import { context, request } from '../framework/test-fixtures.js';
import { candidateSets, contractInstance, snapshot } from './contract-fixtures.js';
import { registerBuiltins } from './register-builtins.js';

const registry = registerBuiltins();
const pickerTypes = registry.types().filter((t) => isPicker(contractInstance(registry, t)));

test('every picker type is covered', () => assert.deepEqual(pickerTypes, ['max-score-picker', 'random-picker', 'weighted-random-picker']));

const totalsFor: { name: string; totals: (n: number) => number[] }[] = [
  { name: 'distinct totals', totals: (n) => Array.from({ length: n }, (_, i) => i + 0.5) },
  { name: 'all equal', totals: (n) => Array.from({ length: n }, () => 1) },
  { name: 'all zero', totals: (n) => Array.from({ length: n }, () => 0) },
];

for (const type of pickerTypes) {
  describe(`Picker contract: ${type}`, () => {
    for (const set of candidateSets()) {
      for (const t of totalsFor) {
        test(`${set.name}, ${t.name}`, () => {
          const eps = set.endpoints;
          const totals = t.totals(eps.length);
          const before = [snapshot(eps), JSON.stringify(totals), [...eps]] as const;
          const ctx = context(request(), seededRandom(5));
          for (let i = 0; i < 20; i++) {
            const p = registry.create(type, type);
            if (!isPicker(p)) throw new Error('not a picker');
            const ep = p.pick(ctx, eps, totals);
            if (eps.length === 0) assert.equal(ep, undefined);
            else assert.ok(ep && eps.includes(ep), 'picks a candidate');
          }
          const ranked = registry.create(type, type, { maxNumOfEndpoints: 2 });
          if (!isPicker(ranked) || !ranked.pickRanked) throw new Error(`${type} has no pickRanked`);
          const list = ranked.pickRanked(ctx, eps, totals);
          assert.equal(list.length, Math.min(2, eps.length));
          assert.equal(new Set(list).size, list.length, 'distinct');
          for (const ep of list) assert.ok(eps.includes(ep));
          assert.deepEqual([snapshot(eps), JSON.stringify(totals), [...eps]], before, 'inputs unchanged');
        });
      }
    }
  });
}

describe('max-score-picker ranks by total', () => {
  test('the first ranked is the best', () => {
    const eps = candidateSets()[0]?.endpoints ?? [];
    const p = registry.create('max-score-picker', 'm', { maxNumOfEndpoints: 4 });
    if (!isPicker(p) || !p.pickRanked) throw new Error('not a picker');
    assert.deepEqual(p.pickRanked(context(), eps, [0.1, 0.9, 0.5, 0.3]), [eps[1], eps[2], eps[3], eps[0]]);
  });
});
