import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoundedLabel, OVERFLOW_LABEL_VALUE } from './bounded-label.js';

test('a bounded label admits values up to its cap, then reads `other`; admitted and pinned values keep their own', () => {
  // Each step: [action, value, expected label or admitted count after]
  const steps: [op: 'bound' | 'pin', value: string, want: string | undefined][] = [
    ['bound', 'a', 'a'],
    ['bound', 'b', 'b'],
    ['bound', 'a', 'a'],
    ['bound', 'c', OVERFLOW_LABEL_VALUE],
    ['bound', '', ''],
    ['pin', 'rewrite-target', undefined],
    ['bound', 'rewrite-target', 'rewrite-target'],
    ['bound', 'b', 'b'],
    ['pin', 'c', undefined],
    ['bound', 'c', 'c'],
    ['bound', 'd', OVERFLOW_LABEL_VALUE],
  ];
  const label = new BoundedLabel(2);
  for (const [i, [op, value, want]] of steps.entries()) {
    if (op === 'pin') label.pin(value);
    else assert.equal(label.bound(value), want, `step ${i}: bound(${JSON.stringify(value)})`);
  }
  assert.equal(label.admitted, 2, 'pins and the empty value take no slot');
});
