import { test } from 'node:test';
import assert from 'node:assert/strict';
import { epochMsAt } from './wall-clock.js';

test('epochMsAt gives whole epoch ms within a ms of Date.now() for a fresh monotonic reading, also after the refresh interval', async () => {
  for (let round = 0; round < 2; round++) {
    const before = Date.now();
    const t = epochMsAt(performance.now());
    const after = Date.now();
    assert.ok(Number.isInteger(t));
    // Date.now() truncates, and the offset carries the sub-ms parts of both clocks: one ms either side.
    assert.ok(t >= before - 1 && t <= after + 1, `${before} <= ${t} <= ${after}`);
    if (round === 0) await new Promise((r) => setTimeout(r, 1100));
  }
});

test('later monotonic readings map to later or equal epoch ms, by the same difference', () => {
  const a = performance.now();
  const ta = epochMsAt(a);
  const tb = epochMsAt(a + 250);
  assert.ok(Math.abs(tb - ta - 250) <= 1, `${ta} -> ${tb}`);
});
