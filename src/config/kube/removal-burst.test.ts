/** RemovalBurst: a run of removals is waited out until it goes quiet, and never for longer than its cap. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RemovalBurst } from './removal-burst.js';

test('no removal, no wait', () => {
  assert.equal(new RemovalBurst(300, 5000).waitMs(1000), 0);
});

test('each removal pushes the end of the burst back to quietMs after it', () => {
  const b = new RemovalBurst(300, 5000);
  b.removed(1000);
  assert.equal(b.waitMs(1000), 300);
  b.removed(1200);
  assert.equal(b.waitMs(1250), 250);
  assert.equal(b.waitMs(1500), 0);
});

test('a burst that never goes quiet is cut at maxMs after its first removal', () => {
  const b = new RemovalBurst(300, 1000);
  for (let t = 0; t <= 2000; t += 100) b.removed(t);
  assert.equal(b.waitMs(2000), 0);
  // A removal after a quiet gap starts a new burst.
  b.removed(3000);
  assert.equal(b.waitMs(3000), 300);
});
