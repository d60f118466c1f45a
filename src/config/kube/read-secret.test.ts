/** readSecretData: one GET by name, data decoded; not found and forbidden say what to do (an API server stand-in on 127.0.82.30). */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { KubeClient } from './kube-client.js';
import { readSecretData } from './read-secret.js';

const HOST = '127.0.82.30';
const paths: string[] = [];
const server = createServer((req, res) => {
  paths.push(`${req.method} ${req.url}`);
  const json = (status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  if (req.url === '/api/v1/namespaces/llm/secrets/vllm-api-key') json(200, { kind: 'Secret', metadata: { name: 'vllm-api-key' }, data: { token: Buffer.from('sk-1\n').toString('base64') } });
  else if (req.url === '/api/v1/namespaces/llm/secrets/locked') json(403, { kind: 'Status', reason: 'Forbidden', message: 'secrets "locked" is forbidden: User "system:serviceaccount:llm:infergate" cannot get resource "secrets"' });
  else json(404, { kind: 'Status', reason: 'NotFound', message: 'secrets "x" not found' });
});
let client: KubeClient;

before(async () => {
  await new Promise<void>((resolve) => server.listen(0, HOST, resolve));
  const url = `http://${HOST}:${(server.address() as AddressInfo).port}`;
  const config = new KubeConfig();
  config.loadFromClusterAndUser({ name: 'stand-in', server: url, skipTLSVerify: true }, { name: 'stand-in' });
  client = new KubeClient({ config, server: url, namespace: 'llm', describe: 'stand-in' });
});
after(() => new Promise<void>((resolve) => server.close(() => resolve())));

test('a Secret is read by name and its data decoded; not found and forbidden say what to do', async () => {
  assert.deepEqual(await readSecretData(client, 'llm', 'vllm-api-key'), { token: 'sk-1\n' });
  assert.deepEqual(paths, ['GET /api/v1/namespaces/llm/secrets/vllm-api-key'], 'one GET by name, no list or watch');
  await assert.rejects(readSecretData(client, 'llm', 'gone'), /^Error: Secret llm\/gone not found$/);
  await assert.rejects(readSecretData(client, 'llm', 'locked'), /the gateway may not read Secret llm\/locked: grant its service account "get" on secrets in namespace llm \(a Role with resourceNames: \[locked\] is enough\), or mount the Secret and name the file with infergate\.io\/upstream-api-key-file/);
});
