/**
 * `serve --cert-file --key-file`: the pod is told the scheme the client used, `x-forwarded-proto: https`, as Envoy
 * tells it, not the `http` of the gateway's own connection to it. A scripted pod echoing the headers it got, on
 * 127.0.17.21; the gateway on 127.0.17.20, over HTTPS with a self-signed certificate.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Agent } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { selfSignedCertificate } from '../../src/extproc/self-signed-certificate.js';
import { createLogger } from '../../src/logger.js';
import { ServingCertificate } from '../../src/proxy/serving-certificate.js';
import { podYaml, poolYaml, prefixRouteYaml, startTestGateway, tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';
import { startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';

const POD = '127.0.17.21';
const HOST = '127.0.17.20';
const MODEL = 'proto/model';

let pod: ScriptedPod;
let cfg: TempConfig;
let gw: RunningGateway;
let dispatcher: Agent;

before(async () => {
  pod = await startScriptedPod({
    host: POD,
    model: MODEL,
    paths: { '/v1/chat/completions': (req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ proto: req.headers['x-forwarded-proto'] })) },
  });
  cfg = await tempConfig({ 'all.yaml': [podYaml('proto-0', POD, { app: 'proto' }), poolYaml('proto', { app: 'proto' }, pod.port), prefixRouteYaml('all', '/v1/', 'proto')].join('---\n') });
  // Beside the config's .yaml files, which alone the file source reads.
  const pair = selfSignedCertificate({ commonName: 'infergate-test', altNames: [HOST] });
  await writeFile(join(cfg.dir, 'tls.crt.pem'), pair.cert);
  await writeFile(join(cfg.dir, 'tls.key.pem'), pair.key);
  const tls = new ServingCertificate({ certFile: join(cfg.dir, 'tls.crt.pem'), keyFile: join(cfg.dir, 'tls.key.pem') }, createLogger('silent'));
  dispatcher = new Agent({ connect: { ca: pair.cert } });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST, tls });
  const listed = async (): Promise<boolean> => ((await (await fetch(`${gw.url}/v1/models`, { dispatcher } as unknown as RequestInit)).json()) as { data: unknown[] }).data.length > 0;
  assert.ok(await waitFor(listed), 'the model is discovered');
});

after(async () => {
  await gw?.close();
  await pod?.close();
  await cfg?.remove();
  await dispatcher?.close();
});

test('over HTTPS the pod gets x-forwarded-proto: https, whatever the client sent', async () => {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-proto': 'http' },
    body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }),
    dispatcher,
  } as unknown as RequestInit);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { proto: 'https' });
});
