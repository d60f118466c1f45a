/** queue-scorer: (maxQ - q) / (maxQ - minQ) over the candidates; all equal -> 1; no metrics -> 0. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { context, endpoint, endpointsWith } from '../framework/test-fixtures.js';
import { QueueScorer } from './queue-scorer.js';

describe('queue-scorer', () => {
  /** Waiting queue per endpoint; undefined = never scraped. */
  const cases: { name: string; queues: (number | undefined)[]; want: number[] }[] = [
    { name: 'linear between min and max', queues: [0, 5, 10], want: [1, 0.5, 0] },
    { name: 'min above zero', queues: [4, 6, 8], want: [1, 0.5, 0] },
    { name: 'all equal score 1', queues: [3, 3, 3], want: [1, 1, 1] },
    { name: 'one endpoint', queues: [7], want: [1] },
    { name: 'no metrics is the worst, and does not stretch the range', queues: [undefined, 2, 4], want: [0, 1, 0] },
    { name: 'nobody has metrics', queues: [undefined, undefined], want: [0, 0] },
    { name: 'empty', queues: [], want: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const eps = endpointsWith(c.queues, (b, q) => b.waiting(q));
      assert.deepEqual(Array.from(new QueueScorer().score(context(), eps)), c.want);
    });
  }

  test('unanswered requests a pod does not report count as waiting: an idle-looking pod that holds two ranks last', () => {
    const eps = [endpoint('10.0.0.1').waiting(0).unanswered(2).build(), endpoint('10.0.0.2').waiting(1).metrics({ runningQueueSize: 4 }).unanswered(4).build()];
    assert.deepEqual(Array.from(new QueueScorer().score(context(), eps)), [0, 1]);
  });
});
