/** utilization-filter: every condition caps one metric; an endpoint over any cap is dropped; fallbackOnEmpty. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter } from '../framework/plugin.js';
import { context, endpoint } from '../framework/test-fixtures.js';
import { registerBuiltins } from './register-builtins.js';
import type { UtilizationFilter } from './utilization-filter.js';

const make = (params: Record<string, unknown>, warn?: (m: string) => void) => registerBuiltins().create('utilization-filter', 'u', params, { warn }) as UtilizationFilter & Filter;

describe('utilization-filter', () => {
  const eps = (): Endpoint[] => [
    endpoint('10.0.0.1').metrics({ runningQueueSize: 10, waitingQueueSize: 0, kvCacheUsagePercent: 0.2 }).inFlight(3).build(),
    endpoint('10.0.0.2').metrics({ runningQueueSize: 41, waitingQueueSize: 0, kvCacheUsagePercent: 0.5 }).inFlight(1).build(),
    endpoint('10.0.0.3').metrics({ runningQueueSize: 5, waitingQueueSize: 2, kvCacheUsagePercent: 0.9 }).inFlight(12).build(),
    // never scraped: its scraped metrics read 0, as llm-d's
    endpoint('10.0.0.4').inFlight(2).build(),
  ];
  const cases: { name: string; conditions: { metric: string; maxValue: number }[]; fallbackOnEmpty?: boolean; want: number[] }[] = [
    { name: 'running-requests: at the cap is kept, over it dropped', conditions: [{ metric: 'running-requests', maxValue: 10 }], want: [0, 2, 3] },
    { name: 'waiting-queue 0: a non-empty queue is dropped', conditions: [{ metric: 'waiting-queue', maxValue: 0 }], want: [0, 1, 3] },
    { name: 'kv-cache-utilization is a fraction', conditions: [{ metric: 'kv-cache-utilization', maxValue: 0.5 }], want: [0, 1, 3] },
    { name: "active-requests is the gateway's in-flight count", conditions: [{ metric: 'active-requests', maxValue: 3 }], want: [0, 1, 3] },
    {
      name: 'several conditions: dropped when over any',
      conditions: [{ metric: 'running-requests', maxValue: 40 }, { metric: 'waiting-queue', maxValue: 0 }, { metric: 'kv-cache-utilization', maxValue: 0.8 }],
      want: [0, 3],
    },
    { name: 'nothing passes: nothing kept', conditions: [{ metric: 'active-requests', maxValue: 1 }, { metric: 'running-requests', maxValue: 4 }], want: [] },
    { name: 'nothing passes, fallbackOnEmpty: every candidate', conditions: [{ metric: 'active-requests', maxValue: 1 }, { metric: 'running-requests', maxValue: 4 }], fallbackOnEmpty: true, want: [0, 1, 2, 3] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const list = eps();
      const kept = make({ conditions: c.conditions, fallbackOnEmpty: c.fallbackOnEmpty }).filter(context(), list);
      assert.deepEqual(kept.map((e) => list.indexOf(e)), c.want);
    });
  }

  test("waiting-queue counts the gateway's unanswered requests the pod does not report, as the other load plugins", () => {
    const list = [endpoint('10.0.0.1').metrics({ runningQueueSize: 0, waitingQueueSize: 0 }).unanswered(3).build(), endpoint('10.0.0.2').waiting(0).build()];
    const kept = make({ conditions: [{ metric: 'waiting-queue', maxValue: 2 }] }).filter(context(), list);
    assert.deepEqual(kept, [list[1]]);
  });

  test('an empty result says which caps no candidate met and how to route anyway', () => {
    const f = make({ conditions: [{ metric: 'running-requests', maxValue: 40 }, { metric: 'waiting-queue', maxValue: 0 }] });
    assert.equal(f.whyEmpty?.(context()), 'no candidate satisfies every condition (running-requests <= 40, waiting-queue <= 0); set fallbackOnEmpty: true to route to one anyway');
  });

  test("llm-d's README example loads by its parameter names", () => {
    const f = make({
      conditions: [
        { metric: 'running-requests', maxValue: 40 },
        { metric: 'waiting-queue', maxValue: 0 },
        { metric: 'kv-cache-utilization', maxValue: 0.8 },
      ],
      fallbackOnEmpty: true,
    });
    assert.equal(f.type, 'utilization-filter');
    assert.equal(f.fallbackOnEmpty, true);
    assert.deepEqual(f.conditions.map((c) => [c.metric, c.maxValue]), [['running-requests', 40], ['waiting-queue', 0], ['kv-cache-utilization', 0.8]]);
  });

  test('inFlightLoadProducerName loads, ignored with a warning', () => {
    const warnings: string[] = [];
    make({ conditions: [{ metric: 'active-requests', maxValue: 4 }], inFlightLoadProducerName: 'inflight-load-producer' }, (w) => warnings.push(w));
    assert.match(warnings.join('\n'), /parameters\.inFlightLoadProducerName is ignored: active-requests is the gateway's own in-flight count/);
  });

  const invalid: { name: string; params: Record<string, unknown>; error: RegExp }[] = [
    { name: 'no conditions', params: {}, error: /parameters\.conditions: needs at least one \{metric, maxValue\}; metric is one of active-requests, running-requests, waiting-queue, kv-cache-utilization/ },
    { name: 'an empty list', params: { conditions: [] }, error: /parameters\.conditions: needs at least one/ },
    { name: 'not a list', params: { conditions: { metric: 'waiting-queue', maxValue: 1 } }, error: /parameters\.conditions: must be a list, got a mapping/ },
    { name: 'an unknown metric', params: { conditions: [{ metric: 'queue', maxValue: 1 }] }, error: /parameters\.conditions\[0\]\.metric: must be one of active-requests, running-requests, waiting-queue, kv-cache-utilization, got "queue"/ },
    { name: 'no maxValue', params: { conditions: [{ metric: 'waiting-queue' }] }, error: /parameters\.conditions\[0\]\.maxValue: is required: the largest waiting-queue an endpoint may have and be kept/ },
    { name: 'a negative maxValue', params: { conditions: [{ metric: 'waiting-queue', maxValue: -1 }] }, error: /parameters\.conditions\[0\]\.maxValue: must be at least 0, got -1/ },
    { name: 'a string maxValue', params: { conditions: [{ metric: 'waiting-queue', maxValue: '5' }] }, error: /parameters\.conditions\[0\]\.maxValue: must be a number, got "5"/ },
    { name: 'a KV cache cap above 1 (a percentage)', params: { conditions: [{ metric: 'kv-cache-utilization', maxValue: 80 }] }, error: /parameters\.conditions\[0\]\.maxValue: is a fraction of the KV cache for kv-cache-utilization and must be at most 1, got 80/ },
    { name: 'a misspelt field of a condition', params: { conditions: [{ metric: 'waiting-queue', maxValue: 1 }, { metric: 'waiting-queue', max: 1 }] }, error: /parameters\.conditions\[1\]\.max: unknown field; known fields: maxValue, metric/ },
    { name: 'a misspelt parameter', params: { conditions: [{ metric: 'waiting-queue', maxValue: 1 }], fallbackOnEmtpy: true }, error: /parameters\.fallbackOnEmtpy: unknown parameter \(did you mean fallbackOnEmpty\?\)/ },
  ];
  for (const c of invalid) {
    test(`refused: ${c.name}`, () => {
      assert.throws(() => make(c.params), c.error);
    });
  }
});
