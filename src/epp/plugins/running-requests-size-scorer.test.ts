/** running-requests-size-scorer: (maxR - r) / (maxR - minR) over the running counts; all equal -> 1; no metrics -> 0. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { isScorer } from '../framework/plugin.js';
import { context, endpoint, endpointsWith } from '../framework/test-fixtures.js';
import { registerBuiltins } from './register-builtins.js';

const scorer = () => {
  const s = registerBuiltins().create('running-requests-size-scorer', 'running-requests');
  if (!isScorer(s)) throw new Error('not a scorer');
  return s;
};

describe('running-requests-size-scorer', () => {
  /** `vllm:num_requests_running` per endpoint; undefined = never scraped. */
  const cases: { name: string; running: (number | undefined)[]; want: number[] }[] = [
    { name: 'fewest running scores 1, most 0, linear between', running: [0, 5, 10], want: [1, 0.5, 0] },
    { name: "the range is the candidates' own, not from zero", running: [4, 6, 8], want: [1, 0.5, 0] },
    { name: 'all equal: 1 each (neutral)', running: [3, 3, 3], want: [1, 1, 1] },
    { name: 'one endpoint', running: [12], want: [1] },
    { name: 'never scraped scores 0 and does not stretch the range', running: [undefined, 2, 4], want: [0, 1, 0] },
    { name: 'nobody scraped: all 0, no sway', running: [undefined, undefined], want: [0, 0] },
    { name: 'empty', running: [], want: [] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const eps = endpointsWith(c.running, (b, r) => b.metrics({ runningQueueSize: r }));
      assert.deepEqual(Array.from(scorer().score(context(), eps)), c.want);
    });
  }

  test('reads the running count only: the waiting queue and in-flight count do not move it', () => {
    const eps = [endpoint('10.0.0.1').metrics({ runningQueueSize: 2, waitingQueueSize: 50 }).inFlight(60).build(), endpoint('10.0.0.2').metrics({ runningQueueSize: 6 }).build()];
    assert.deepEqual(Array.from(scorer().score(context(), eps)), [1, 0]);
  });

  test('takes no parameters, as llm-d', () => {
    assert.equal(scorer().name, 'running-requests');
    assert.throws(() => registerBuiltins().create('running-requests-size-scorer', 'r', { threshold: 4 }), /parameters\.threshold: unknown parameter; running-requests-size-scorer takes no parameters/);
  });
});
