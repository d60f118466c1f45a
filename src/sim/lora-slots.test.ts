/** Tests for LoRA slots: the batch limit and which adapter loads cost time. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LoraSlots } from './lora-slots.js';

test('at most maxLoras distinct adapters run; base requests and more requests for a running adapter always fit', () => {
  const slots = new LoraSlots(2);
  assert.equal(slots.start('a'), true, 'first use loads a');
  assert.equal(slots.start('b'), true);
  assert.equal(slots.canRun('c'), false);
  assert.equal(slots.canRun('a'), true);
  assert.equal(slots.canRun(null), true);
  assert.deepEqual(slots.runningAdapters(), ['a', 'b']);
  slots.release('b');
  assert.equal(slots.canRun('c'), true);
  assert.equal(slots.start('b'), false, 'b is still resident: no load');
  slots.release('b');
  assert.equal(slots.start('c'), true, 'c takes the slot of b, the least recently used idle adapter');
  slots.release('c');
  assert.equal(slots.start('a'), false, 'a stayed resident while running');
  assert.equal(slots.start('b'), true, 'b was evicted by c');
});
