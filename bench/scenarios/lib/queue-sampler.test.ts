/** Tests for the queue-depth tally: means and maxima per pod, missing samples skipped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueueTally } from './queue-sampler.js';

test('means and maxima per pod; a pod missing from a sample is left out of its mean', () => {
  const t = new QueueTally(2);
  t.add([{ waiting: 4, running: 10 }, { waiting: 0, running: 2 }]);
  t.add([{ waiting: 2, running: 12 }, null]);
  t.add([{ waiting: 0, running: 8 }, { waiting: 1, running: 4 }]);
  const s = t.stats();
  assert.equal(s.samples, 3);
  assert.deepEqual(s.meanWaiting, [2, 0.5]);
  assert.deepEqual(s.maxWaiting, [4, 1]);
  assert.deepEqual(s.meanRunning, [10, 3]);
});

test('a pod never sampled has NaN means', () => {
  const t = new QueueTally(1);
  t.add([null]);
  assert.ok(Number.isNaN(t.stats().meanWaiting[0]));
  assert.equal(t.stats().maxWaiting[0], 0);
});
