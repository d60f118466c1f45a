/** Weighted backend choice: traffic splits by weight, weight 0 is never chosen. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RouteRule } from '../api/http-route.js';
import { pickBackend } from './pick-backend.js';
import { match, pool } from './test-fixtures.js';
import { seededRandom } from '../seeded-random.js';


function rule(...backendRefs: RouteRule['backendRefs']): RouteRule {
  return { matches: [match()], backendRefs };
}

function counts(r: RouteRule, n: number, seed: number): Map<string, number> {
  const random = seededRandom(seed);
  const out = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const name = pickBackend(r, random)?.name ?? '(none)';
    out.set(name, (out.get(name) ?? 0) + 1);
  }
  return out;
}

test('70/30 weights split 200 picks within 10 percentage points', () => {
  const r = rule(pool('primary', 70), pool('canary', 30));
  for (const seed of [1, 42, 2024]) {
    const c = counts(r, 200, seed);
    const primaryShare = ((c.get('primary') ?? 0) / 200) * 100;
    assert.ok(Math.abs(primaryShare - 70) <= 10, `seed ${seed}: primary got ${primaryShare}%`);
    assert.equal((c.get('primary') ?? 0) + (c.get('canary') ?? 0), 200);
  }
});

test('weight 0 is never picked, wherever it sits', () => {
  const cases = [
    rule(pool('zero', 0), pool('a', 1), pool('b', 3)),
    rule(pool('a', 1), pool('zero', 0), pool('b', 3)),
    rule(pool('a', 1), pool('b', 3), pool('zero', 0)),
  ];
  for (const r of cases) {
    const c = counts(r, 500, 7);
    assert.equal(c.get('zero'), undefined);
    assert.equal(c.get('(none)'), undefined);
  }
});

test('edge cases', () => {
  assert.equal(pickBackend(rule()), undefined, 'no backendRefs');
  assert.equal(pickBackend(rule(pool('a', 0), pool('b', 0))), undefined, 'all weights 0');
  assert.equal(pickBackend(rule(pool('only', 5)), () => 0.99)?.name, 'only');
  assert.equal(pickBackend(rule(pool('a', 1), pool('b', 1)), () => 0)?.name, 'a');
  assert.equal(pickBackend(rule(pool('a', 1), pool('b', 1)), () => 0.5)?.name, 'b');
  // A random source returning 1 (out of contract) still lands on a ref that may be chosen.
  assert.equal(pickBackend(rule(pool('a', 1), pool('b', 1), pool('z', 0)), () => 1)?.name, 'b');
});
