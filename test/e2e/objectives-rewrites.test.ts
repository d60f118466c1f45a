/** InferenceModelRewrite (canary inside a pool) and InferenceObjective headers, end to end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { podYaml, poolYaml, prefixRouteYaml } from '../helpers/fleet.js';
import { withFleetGateway } from '../helpers/fleet-gateway.js';

const BASE = 'Qwen/Qwen3-32B';

test('an InferenceModelRewrite splits an alias 50/50 between two adapter versions in one pool', () =>
  withFleetGateway(
    37,
    [
      { name: 'qwen-0', labels: {}, model: BASE, loras: ['segment-lora-v1'], ttftMs: 0, itlMs: 0 },
      { name: 'qwen-1', labels: {}, model: BASE, loras: ['segment-lora-v2'], ttftMs: 0, itlMs: 0 },
    ],
    (fleet) => [
      podYaml('qwen-0', fleet.ipOf('qwen-0'), { app: 'qwen' }),
      podYaml('qwen-1', fleet.ipOf('qwen-1'), { app: 'qwen' }),
      poolYaml('qwen', { app: 'qwen' }, fleet.port),
      prefixRouteYaml('all', '/v1/', 'qwen'),
      `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: segment-canary}
spec:
  poolRef: {group: inference.networking.k8s.io, name: qwen}
  rules:
    - matches: [{model: {type: Exact, value: segment-lora}}]
      targets:
        - {modelRewrite: segment-lora-v1, weight: 50}
        - {modelRewrite: segment-lora-v2, weight: 50}
`,
      `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch}
spec:
  priority: -1
  poolRef: {group: inference.networking.k8s.io, name: qwen}
`,
    ],
    async ({ client }) => {
      const seen = new Map<string, number>();
      for (let i = 0; i < 60; i++) {
        const { data, response } = await client.completions.create({ model: 'segment-lora', prompt: 'x', max_tokens: 1 }, { headers: { 'x-gateway-inference-objective': 'batch' } }).withResponse();
        seen.set(data.model, (seen.get(data.model) ?? 0) + 1);
        // The rewritten model must land on the pod that serves that version.
        assert.equal(response.headers.get('x-inference-pod'), data.model === 'segment-lora-v1' ? 'qwen-0' : 'qwen-1');
      }
      assert.deepEqual([...seen.keys()].sort(), ['segment-lora-v1', 'segment-lora-v2']);
      assert.ok(seen.get('segment-lora-v1')! >= 15 && seen.get('segment-lora-v2')! >= 15, JSON.stringify([...seen]));
    },
  ));
