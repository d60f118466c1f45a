import assert from 'node:assert/strict';
import { test } from 'node:test';
import { inferencePool, pod } from '../../api/test-fixtures.js';
import type { Pod } from '../../api/pod.js';
import { seededRandom } from '../../seeded-random.js';
import { PodIndex, poolMembers } from './pool-members.js';

test('the pod index finds exactly the members a scan of every pod finds, in the same order', () => {
  const random = seededRandom(7);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
  const pods: Pod[] = [];
  for (let i = 0; i < 400; i++) {
    const b = pod(`p${i}`).inNamespace(pick(['a', 'b'])).labels({ app: pick(['vllm', 'sglang']), model: pick(['m1', 'm2', 'm3']), ...(random() < 0.3 ? { role: pick(['prefill', 'decode']) } : {}) }).ip(`10.0.${i >> 8}.${i & 255}`);
    pods.push(random() < 0.8 ? b.ready() : b.notReady());
  }
  const index = new PodIndex(pods);
  const selectors: Record<string, string>[] = [{ app: 'vllm' }, { model: 'm2' }, { app: 'sglang', model: 'm1' }, { app: 'vllm', role: 'decode' }, { model: 'none' }, {}];
  let compared = 0;
  for (const ns of ['a', 'b', 'c']) {
    for (const sel of selectors) {
      const pool = inferencePool('p').inNamespace(ns).selects(sel).ports(8000);
      const scanned = poolMembers(pool, pods);
      const indexed = poolMembers(pool, index);
      assert.deepEqual(indexed.map((m) => [m.pod.meta.name, m.excluded]), scanned.map((m) => [m.pod.meta.name, m.excluded]), `${ns} ${JSON.stringify(sel)}`);
      compared += scanned.length;
    }
  }
  assert.ok(compared > 500, 'the cases select many pods, not just none');
});
