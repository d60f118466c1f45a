/**
 * `serve --kube` and an InferencePool naming the Secret its pods' API key is in (infergate.io/upstream-api-key-secret),
 * against a real API server: the Secret is read by name, and the pods are discovered and routed with its key.
 * A simulated pod started with that key on 127.0.83.2.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { request } from 'undici';
import { startGateway, type RunningGateway } from '../../src/cli/start-gateway.js';
import { createLogger } from '../../src/logger.js';
import { baseModelRouteYaml, poolYaml, startFleet, waitFor, type Fleet } from '../helpers/fleet.js';
import { applyCrds, createNamespace, startLocalKube, type LocalKube } from '../helpers/local-kube.js';

const GEMMA = 'google/gemma-2b-it';

let kube: LocalKube;
let fleet: Fleet;
let gw: RunningGateway | undefined;

before(async () => {
  kube = await startLocalKube();
  await applyCrds(kube.client);
  fleet = await startFleet(83, [{ name: 'gemma-0', labels: {}, model: GEMMA, apiKeys: ['sk-from-secret'], ttftMs: 1, itlMs: 1 }]);
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await kube?.close();
});

test('a pool naming a Secret: its key is read from the API server and sent to the pods; a Secret without that key is reported', { timeout: 60_000 }, async () => {
  const ns = await createNamespace(kube.client);
  await kube.client.apply({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'vllm-api-key', namespace: ns }, type: 'Opaque', data: { token: Buffer.from('sk-from-secret\n').toString('base64') } });
  await kube.client.createPod(ns, 'gemma-0', { app: 'gemma' }, fleet.port);
  await kube.client.setPodStatus(ns, 'gemma-0', { ip: fleet.ipOf('gemma-0'), ready: true });
  const pool = (secret: string): string =>
    poolYaml('gemma', { app: 'gemma' }, fleet.port, ns).replace(`  namespace: ${ns}\n`, `  namespace: ${ns}\n  annotations: {infergate.io/upstream-api-key-secret: "${secret}"}\n`);
  await kube.client.applyYaml([pool('vllm-api-key/token'), baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]])].join('---\n'), ns);

  gw = await startGateway({ kube: { kubeconfig: kube.kubeconfigPath, namespace: ns }, host: '127.0.0.1', port: 0, log: createLogger(process.env.INFERGATE_TEST_LOG === 'debug' ? 'debug' : 'silent') });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'client-key', maxRetries: 0, timeout: 5000 });
  const { data, response } = await client.chat.completions.create({ model: GEMMA, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 }).withResponse();
  assert.ok(data.choices[0]);
  assert.equal(response.headers.get('x-inference-pod'), 'gemma-0');

  // The pool now names a key the Secret does not hold: its pods get no key, and /readyz says why.
  await kube.client.applyYaml(pool('vllm-api-key/missing'), ns);
  const problem = async (): Promise<string> => {
    const body = (await (await request(`${gw!.url}/readyz`)).body.json()) as { details?: { upstream_auth?: { keys?: { error: string }[] } } };
    return body.details?.upstream_auth?.keys?.[0]?.error ?? '';
  };
  assert.ok(await waitFor(async () => (await problem()) !== '', 5000), 'the unreadable key is reported');
  assert.match(await problem(), new RegExp(`Secret ${ns}/vllm-api-key has no key missing; it has token`));
});
