/**
 * fairShareHoldback end to end (issue #15): through the gateway and a simulated pod, a tenant that filled the
 * pool keeps only its share once another tenant arrives, so the newcomer goes at the next free slot ahead of
 * the flood's queue; each finished request gives its slot back to its own flow (the proxy releases by flow).
 * And the concurrency detector's tokens mode through the proxy's pick hooks.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor } from '../helpers/fleet.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { PoolFlowReport } from '../../src/flowcontrol/flow-control-report.js';

const M = 'model/holdback';
/** Two requests at a time on one pod; global-strict (FCFS) fairness, so only the holdback reorders. */
const epp = (holdback: boolean): string => `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins:
- type: concurrency-detector
  parameters: {maxConcurrency: 2}
- type: queue-scorer
flowControl:
  defaultRequestTTL: 30s
  saturationDetector: {pluginRef: concurrency-detector}
${holdback ? '  fairShareHoldback: {activeWindow: 0s}\n' : ''}`;

async function pool(gw: RunningGateway): Promise<PoolFlowReport> {
  const r = (await (await fetch(`${gw.adminUrl}/debug/flow-control`)).json()) as { pools: PoolFlowReport[] };
  return r.pools[0]!;
}

/**
 * Tenant A fills the pool (a long and a shorter request), then queues a3 and a4; tenant B then queues b1.
 * Resolves with the completion order, and the holdback's report while b1 waited.
 */
async function scenario(octet: number, holdback: boolean): Promise<{ done: string[]; whileQueued: PoolFlowReport; after: PoolFlowReport }> {
  const fleet = await startFleet(octet, [{ name: 'p0', labels: {}, model: M, ttftMs: 0, itlMs: 20, maxNumSeqs: 2 }]);
  const cfg = await tempConfig({ 'all.yaml': [podYaml('p0', fleet.ipOf('p0'), { app: 'hb' }), poolYaml('pool', { app: 'hb' }, fleet.port), baseModelRouteYaml('r', M, [['pool', 1]])].join('---\n') });
  const gw = await startTestGateway(cfg.dir, { eppConfig: { text: epp(holdback), file: 'holdback.yaml' } });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const done: string[] = [];
    const send = (label: string, tenant: string, maxTokens: number): Promise<unknown> =>
      client.completions.create({ model: M, prompt: label, max_tokens: maxTokens }, { headers: { 'x-llm-d-inference-fairness-id': tenant } }).then(
        () => done.push(label),
        (e: unknown) => done.push(`${label}: ${String(e)}`),
      );
    const all = [send('a-long', 'tenant-a', 100), send('a-short', 'tenant-a', 25)];
    assert.ok(await waitFor(async () => (await pool(gw)).inFlight === 2, 3000), 'tenant A alone takes the whole pool');
    for (const [i, label] of ['a3', 'a4'].entries()) {
      all.push(send(label, 'tenant-a', 1));
      assert.ok(await waitFor(async () => (await pool(gw)).queued === i + 1, 3000), `${label} is queued`);
    }
    all.push(send('b1', 'tenant-b', 1));
    assert.ok(await waitFor(async () => (await pool(gw)).queued === 3, 3000), 'b1 is queued');
    const whileQueued = await pool(gw);
    await Promise.all(all);
    return { done, whileQueued, after: await pool(gw) };
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
}

test('with fairShareHoldback, the newcomer goes at the next free slot, ahead of the flood queued before it', async () => {
  const { done, whileQueued, after } = await scenario(110, true);
  assert.deepEqual(done, ['a-short', 'b1', 'a3', 'a4', 'a-long']);
  const a = whileQueued.fairShareHoldback?.flows.find((f) => f.fairnessId === 'tenant-a');
  assert.deepEqual(a && { inFlight: a.inFlight, queued: a.queued, share: a.share }, { inFlight: 2, queued: 2, share: 1 }, 'A is over its share of 2 slots / 2 active flows');
  assert.equal(whileQueued.fairShareHoldback?.capacity, 2);
  assert.equal(after.inFlight, 0);
  assert.ok(after.fairShareHoldback!.flows.every((f) => f.inFlight === 0 && f.queued === 0), 'every request gave its slot back to its own flow');
});

test('without it (the same arrivals), FCFS serves the queued flood first', async () => {
  const { done, whileQueued } = await scenario(111, false);
  assert.deepEqual(done, ['a-short', 'a3', 'a4', 'b1', 'a-long']);
  assert.equal(whileQueued.fairShareHoldback, undefined);
});

test("concurrency-detector in tokens mode: a request's estimated tokens fill the pod until its response ends", async () => {
  const fleet = await startFleet(111, [{ name: 'p0', labels: {}, model: M, ttftMs: 0, itlMs: 20, maxNumSeqs: 4 }]);
  const cfg = await tempConfig({ 'all.yaml': [podYaml('p0', fleet.ipOf('p0'), { app: 'hb' }), poolYaml('pool', { app: 'hb' }, fleet.port), baseModelRouteYaml('r', M, [['pool', 1]])].join('---\n') });
  // 80 characters of prompt: 20 tokens in, 30 estimated out = 50, the pod's whole token budget.
  const tokens = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
featureGates: [flowControl]
plugins:
- type: concurrency-detector
  parameters: {concurrencyMode: tokens, maxTokenConcurrency: 50}
- type: queue-scorer
flowControl:
  saturationDetector: {pluginRef: concurrency-detector}
`;
  const gw = await startTestGateway(cfg.dir, { eppConfig: { text: tokens, file: 'tokens.yaml' } });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const ask = (maxTokens: number) => client.completions.create({ model: M, prompt: 'p'.repeat(80), max_tokens: maxTokens });
    const first = ask(40);
    assert.ok(await waitFor(async () => (await pool(gw)).inFlight === 1, 3000));
    const second = ask(1);
    assert.ok(await waitFor(async () => (await pool(gw)).queued === 1, 3000), 'one request fills the token budget: the next waits, though the pod runs 4 sequences');
    const waiting = await pool(gw);
    assert.equal(waiting.saturation.level, 1);
    await Promise.all([first, second]);
    const after = await pool(gw);
    assert.deepEqual([after.queued, after.inFlight], [0, 0]);
    assert.ok(after.saturation.level < 1, 'the tokens were taken back when the first response ended, so the second went');
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});
