/**
 * Flow control and the pool's upstream timeout (infergate.io/upstream-timeout) in `serve`: a request whose
 * deadline passes while it waits in a queue leaves the queue then, with its 504, as Envoy's route timeout
 * cancels a request llm-d's EPP holds; it is never dispatched. Simulated pods on 127.0.197.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { baseModelRouteYaml, podYaml, poolYaml, waitFor, type Fleet } from '../helpers/fleet.js';
import { onePerEndpoint } from '../helpers/epp-configs.js';
import { withFleetGateway } from '../helpers/fleet-gateway.js';

const M = 'model/deadline';
const EPP = onePerEndpoint('defaultRequestTTL: 30s');

const objective = (name: string, priority: number): string => `apiVersion: llm-d.ai/v1alpha2
kind: InferenceObjective
metadata: {name: ${name}}
spec: {priority: ${priority}, poolRef: {group: inference.networking.k8s.io, name: pool}}
`;

const docs = (fleet: Fleet): string[] => [
  podYaml('p0', fleet.ipOf('p0'), { app: 'dl' }),
  poolYaml('pool', { app: 'dl' }, fleet.port).replace('  name: pool\n', '  name: pool\n  annotations: {infergate.io/upstream-timeout: 1s}\n'),
  baseModelRouteYaml('r', M, [['pool', 1]]),
  objective('critical', 10),
  objective('sheddable', -1),
];

interface PoolReport {
  queued: number;
  inFlight: number;
}

test('a request whose upstream timeout passes while it is queued gets its 504 then, and is never dispatched', async () => {
  const replicas = [{ name: 'p0', labels: {}, model: M, ttftMs: 0, itlMs: 20, maxNumSeqs: 1 }];
  await withFleetGateway(
    197,
    replicas,
    docs,
    async ({ gw, client }) => {
      const state = async (): Promise<PoolReport | undefined> => ((await (await fetch(`${gw.adminUrl}/debug/flow-control`)).json()) as { pools: PoolReport[] }).pools[0];
      const settled: string[] = [];
      const send = (label: string, objectiveName?: string): Promise<unknown> =>
        client.completions
          .create({ model: M, prompt: label, max_tokens: 200 }, objectiveName ? { headers: { 'x-llm-d-inference-objective': objectiveName } } : {})
          .then(
            (v) => v,
            (e: unknown) => e,
          )
          .finally(() => settled.push(label));
      // The slot is held, a sheddable request waits, then a critical one, which goes first when the slot frees
      // (at the hold's deadline) and outlasts the sheddable's deadline.
      const hold = send('hold');
      assert.ok(await waitFor(async () => (await state())?.inFlight === 1, 3000), 'the slot is held');
      const shed = send('shed', 'sheddable');
      assert.ok(await waitFor(async () => (await state())?.queued === 1, 3000), 'shed is queued');
      await new Promise((r) => setTimeout(r, 300));
      const critical = send('critical', 'critical');
      assert.ok(await waitFor(async () => (await state())?.queued === 2, 3000), 'critical is queued');
      const e = await shed;
      assert.ok(e instanceof OpenAI.APIError, String(e));
      assert.equal(e.status, 504);
      assert.equal(e.code, 'upstream_timeout');
      // Answered at its deadline, while the critical request still runs: not after a dispatch that came later.
      assert.deepEqual(settled, ['hold', 'shed']);
      await Promise.all([hold, critical]);
      const text = await (await fetch(`${gw.adminUrl}/metrics`)).text();
      assert.match(text, /llm_d_epp_flow_control_requests_total\{outcome="EvictedContextCancelled",priority="-1",inference_pool="pool"\} 1/);
      assert.doesNotMatch(text, /llm_d_epp_flow_control_requests_total\{outcome="Dispatched",priority="-1"/);
    },
    { host: '127.0.197.1', eppConfig: { text: EPP, file: 'flow-control.yaml' } },
  );
});
