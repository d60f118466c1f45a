/** InferenceModelRewrite (canary inside a pool) and InferenceObjective headers, end to end. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { podYaml, poolYaml, prefixRouteYaml } from '../helpers/fleet.js';
import { withFleetGateway } from '../helpers/fleet-gateway.js';
import { testTenancy } from '../helpers/tenancy.js';

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

test("llm-d's x-llm-d-model-name-rewrite header (and GIE's x-gateway-model-name-rewrite) sends the named model inside the pool; the pool's rewrites apply to it; under --api-keys the key must allow it", async () => {
  const keysDir = await mkdtemp(join(tmpdir(), 'infergate-keys-'));
  try {
    const tenancy = await testTenancy(keysDir, [
      { key: 'ig-any', name: 'team-any', models: ['*'] },
      { key: 'ig-v1', name: 'team-v1', models: ['segment-lora-v1'] },
    ]);
    await withFleetGateway(
      13,
      [
        { name: 'qwen-0', labels: {}, model: BASE, loras: ['segment-lora-v1'], ttftMs: 0, itlMs: 0 },
        { name: 'qwen-1', labels: {}, model: BASE, loras: ['segment-lora-v2', 'segment-lora-v3'], ttftMs: 0, itlMs: 0 },
      ],
      (fleet) => [
        podYaml('qwen-0', fleet.ipOf('qwen-0'), { app: 'qwen' }),
        podYaml('qwen-1', fleet.ipOf('qwen-1'), { app: 'qwen' }),
        poolYaml('qwen', { app: 'qwen' }, fleet.port),
        prefixRouteYaml('all', '/v1/', 'qwen'),
        `apiVersion: llm-d.ai/v1alpha2
kind: InferenceModelRewrite
metadata: {name: v3-rollout}
spec:
  poolRef: {group: inference.networking.k8s.io, name: qwen}
  rules:
    - matches: [{model: {type: Exact, value: segment-lora-v2}}]
      targets: [{modelRewrite: segment-lora-v3}]
`,
      ],
      async ({ gw }) => {
        const client = (key: string): OpenAI => new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: key, maxRetries: 0 });
        const send = (key: string, headers: Record<string, string>) => client(key).completions.create({ model: 'segment-lora-v1', prompt: 'x', max_tokens: 1 }, { headers }).withResponse();
        // No header: the body's model.
        let r = await send('ig-any', {});
        assert.equal(r.data.model, 'segment-lora-v1');
        assert.equal(r.response.headers.get('x-inference-pod'), 'qwen-0');
        // The old name alone; then both, the new one winning; the pool's rewrite applies to the header's target.
        r = await send('ig-any', { 'x-gateway-model-name-rewrite': 'segment-lora-v3' });
        assert.equal(r.data.model, 'segment-lora-v3');
        assert.equal(r.response.headers.get('x-inference-pod'), 'qwen-1');
        r = await send('ig-any', { 'x-gateway-model-name-rewrite': 'segment-lora-v1', 'x-llm-d-model-name-rewrite': 'segment-lora-v2' });
        assert.equal(r.data.model, 'segment-lora-v3', 'the InferenceModelRewrite of segment-lora-v2 applied after the header');
        assert.equal(r.response.headers.get('x-inference-pod'), 'qwen-1');
        // A key limited to the body's model cannot reach another through the header.
        assert.equal((await send('ig-v1', {})).data.model, 'segment-lora-v1');
        await assert.rejects(send('ig-v1', { 'x-llm-d-model-name-rewrite': 'segment-lora-v3' }), (e: InstanceType<typeof OpenAI.APIError>) => {
          assert.equal(e.status, 403);
          assert.equal((e.error as { code?: string }).code, 'model_not_allowed');
          assert.match(e.message, /may not use model `segment-lora-v3`/);
          return true;
        });
      },
      { tenancy },
    );
  } finally {
    await rm(keysDir, { recursive: true, force: true });
  }
});
