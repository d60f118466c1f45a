import { test } from 'node:test';
import assert from 'node:assert/strict';
import { endpoint, NOW } from '../../epp/framework/test-fixtures.js';
import type { PoolView } from '../../epp/datastore/datastore.js';
import { inferencePool } from '../../api/test-fixtures.js';
import { endpointName, poolLabels, summarizePool } from './pool-collector.js';

test('pool summary: mean and sample standard deviation over endpoints with fresh metrics, rounded to 2 decimals', () => {
  const table: { name: string; eps: ReturnType<typeof endpoint>[]; ready: number; kv: [number, number]; queue: [number, number]; running: [number, number] }[] = [
    { name: 'no endpoints', eps: [], ready: 0, kv: [0, 0], queue: [0, 0], running: [0, 0] },
    { name: 'one endpoint: deviation 0', eps: [endpoint('10.0.0.1').metrics({ kvCacheUsagePercent: 0.5, waitingQueueSize: 3, runningQueueSize: 7 })], ready: 1, kv: [0.5, 0], queue: [3, 0], running: [7, 0] },
    {
      name: 'three, one never scraped and one stale: only the fresh two count',
      eps: [
        endpoint('10.0.0.1').metrics({ kvCacheUsagePercent: 0.2, waitingQueueSize: 1, runningQueueSize: 2 }),
        endpoint('10.0.0.2').metrics({ kvCacheUsagePercent: 0.4, waitingQueueSize: 4, runningQueueSize: 2 }),
        endpoint('10.0.0.3'),
        endpoint('10.0.0.4').metrics({ kvCacheUsagePercent: 1, waitingQueueSize: 100, updatedAt: NOW - 5000 }),
      ],
      ready: 2,
      kv: [0.3, 0.14],
      queue: [2.5, 2.12],
      running: [2, 0],
    },
  ];
  for (const c of table) {
    const s = summarizePool(
      c.eps.map((b) => b.build()),
      NOW,
    );
    assert.equal(s.ready, c.ready, c.name);
    assert.deepEqual([s.kvCache.mean, s.kvCache.stdDev], c.kv, `${c.name}: kv`);
    assert.deepEqual([s.queue.mean, s.queue.stdDev], c.queue, `${c.name}: queue`);
    assert.deepEqual([s.running.mean, s.running.stdDev], c.running, `${c.name}: running`);
  }
});

test('pool and endpoint names: the pool name unless two namespaces share it; the pod name, -rank-N with several target ports', () => {
  const view = (ns: string, name: string, ports: number[]): PoolView => ({ key: `${ns}/${name}`, pool: inferencePool(name).inNamespace(ns).selects({ app: name }).ports(...ports), endpoints: [], excluded: [] });
  const a = view('team-a', 'llama', [8000]);
  const b = view('team-b', 'llama', [8000]);
  const c = view('team-a', 'qwen', [8000, 8001]);
  const labels = poolLabels([a, b, c]);
  assert.deepEqual([labels.get(a), labels.get(b), labels.get(c)], ['team-a/llama', 'team-b/llama', 'qwen']);
  const ep0 = endpoint('10.0.0.1').pod('qwen-0', 'team-a').port(8000).build();
  const ep1 = endpoint('10.0.0.1').pod('qwen-0', 'team-a').port(8001).build();
  assert.equal(endpointName(a, endpoint('10.0.0.2').pod('llama-0').build()), 'llama-0');
  assert.deepEqual([endpointName(c, ep0), endpointName(c, ep1)], ['qwen-0-rank-0', 'qwen-0-rank-1']);
});
