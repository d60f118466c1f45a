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

test('values of refused requests take at most half the slots: a flood of made-up names leaves room for served models', () => {
  const label = new BoundedLabel(6);
  for (let i = 0; i < 10; i++) label.bound(`made-up-${i}`, true);
  assert.equal(label.admitted, 3, 'half of 6');
  assert.equal(label.bound('made-up-0', true), 'made-up-0', 'an admitted value keeps its label');
  assert.equal(label.bound('made-up-99', true), OVERFLOW_LABEL_VALUE);
  assert.equal(label.bound('served-late'), 'served-late', 'a served model added later still gets its own label');
  assert.equal(label.bound('made-up-99'), 'made-up-99', 'and so does a name once a request for it is scheduled');
  assert.equal(label.bound('x'), 'x');
  assert.equal(label.bound('y'), OVERFLOW_LABEL_VALUE, 'the cap itself holds');
});
