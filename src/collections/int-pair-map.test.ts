/** IntPairMap against a JS Map under random inserts, updates and deletes (growth and backward shifts included). */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRandom } from '../seeded-random.js';
import { IntPairMap } from './int-pair-map.js';

describe('IntPairMap', () => {
  test('agrees with a Map through 50,000 random operations', () => {
    const rand = seededRandom(7);
    const m = new IntPairMap(16);
    const ref = new Map<string, number>();
    // Few distinct keys, so deletes hit and probe runs collide.
    const key = () => [Math.floor(rand() * 300) - 150, Math.floor(rand() * 20)] as const;
    for (let i = 0; i < 50_000; i++) {
      const [a, b] = key();
      const op = rand();
      if (op < 0.5) {
        m.set(a, b, i);
        ref.set(`${a},${b}`, i);
      } else if (op < 0.8) {
        assert.equal(m.delete(a, b), ref.delete(`${a},${b}`));
      } else assert.equal(m.get(a, b), ref.get(`${a},${b}`) ?? -1);
    }
    assert.equal(m.size, ref.size);
    for (const [k, v] of ref) {
      const [a, b] = k.split(',').map(Number) as [number, number];
      assert.equal(m.get(a, b), v);
    }
  });

  test('get of a missing pair is -1; values may be 0', () => {
    const m = new IntPairMap();
    m.set(1, 2, 0);
    assert.equal(m.get(1, 2), 0);
    assert.equal(m.get(2, 1), -1);
    assert.equal(m.delete(2, 1), false);
  });
});
