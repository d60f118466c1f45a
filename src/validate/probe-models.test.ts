/** validate --probe: a pod whose args say nothing is asked GET /v1/models; one that does not answer is reported. */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { podYaml, poolYaml } from '../config/manifests.js';
import { startSimulator } from '../sim/simulator.js';
import { validate } from './run-validate.js';

// Port 0 on 127.0.0.1: every endpoint is its own port, so no loopback address of another suite is taken.
const HOST = '127.0.0.1';

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

test('--probe takes what pods serve from GET /v1/models, and reports pods that do not answer', async (t) => {
  const sim = await startSimulator({ model: 'google/gemma-2b-it', loras: ['gemma-sql-lora'], host: HOST, port: 0 });
  t.after(() => sim.close());
  const dir = await mkdtemp(join(tmpdir(), 'infergate-validate-probe-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const route = `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: sql}
spec:
  rules:
    - matches: [{headers: [{name: X-Gateway-Model-Name, value: gemma-sql-lora}]}]
      backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: gemma}]
`;
  // The pods have no container args: without --probe what they serve is unknown.
  const yaml = [podYaml('gemma-0', HOST, { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, sim.port), podYaml('gone-0', HOST, { app: 'gone' }), poolYaml('gone', { app: 'gone' }, await closedPort()), route];
  await writeFile(join(dir, 'config.yaml'), yaml.join('---\n'));

  const statically = await validate({ configPath: dir });
  assert.deepEqual(statically.findings.map((f) => `${f.severity} ${f.code}`), ['warning model-not-served']);
  assert.match(statically.findings[0]!.message, /What 2 servers serve is not known \(Pod default\/gemma-0, Pod default\/gone-0: no vLLM --model\/--served-model-name in the container args; --probe asks GET \/v1\/models\)/);

  const probed = await validate({ configPath: dir, probeTimeoutMs: 1500 });
  assert.deepEqual(
    probed.findings.map((f) => `${f.severity} ${f.code} ${f.object?.name}`),
    ['warning probe-failed gone-0'],
  );
  assert.match(probed.findings[0]!.message, /GET http:\/\/127\.0\.0\.1:\d+\/v1\/models failed: .*; what it serves is not known/);
  assert.doesNotMatch(probed.findings[0]!.message, /failed: GET /, 'the call is named once');
  assert.deepEqual(probed.summary.servers, { total: 2, known: 1, from: ['GET /v1/models'] });
});

test('--probe sends each pool\'s API key; a pod refusing it is probe-refused, naming what to set', async (t) => {
  const sim = await startSimulator({ model: 'google/gemma-2b-it', host: '127.0.83.2', port: 0, apiKeys: ['sk-pod'] });
  t.after(() => sim.close());
  const dir = await mkdtemp(join(tmpdir(), 'infergate-validate-keys-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeFile(join(dir, 'key'), 'sk-pod\n');
  await writeFile(join(dir, 'config.yaml'), [podYaml('gemma-0', '127.0.83.2', { app: 'gemma' }), poolYaml('gemma', { app: 'gemma' }, sim.port)].join('---\n'));

  const refused = await validate({ configPath: dir, probeTimeoutMs: 1500 });
  assert.deepEqual(refused.findings.map((f) => `${f.severity} ${f.code} ${f.object?.name}`), ['error probe-refused gemma-0']);
  assert.match(refused.findings[0]!.message, /GET http:\/\/127\.0\.83\.2:\d+\/v1\/models answered 401 Unauthorized: the pod requires an API key .* and the gateway sent none \(InferencePool default\/gemma names no key\)/);
  assert.match(refused.findings[0]!.fix, /infergate\.io\/upstream-api-key-file/);

  const keyed = await validate({ configPath: dir, probeTimeoutMs: 1500, upstreamKey: { kind: 'file', path: join(dir, 'key'), origin: '--upstream-api-key-file' } });
  assert.deepEqual(keyed.findings, []);
  assert.deepEqual(keyed.summary.servers, { total: 1, known: 1, from: ['GET /v1/models'] });
});
