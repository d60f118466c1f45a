/**
 * The 502 when no attempt got an answer says what happened: "could not connect" only when no connection was made
 * (refused), else "could not get an answer", with each reset named as one. Before, pods that accepted the request
 * and closed the connection (a crash mid-request, a proxy in front of a dead engine) were reported as unreachable.
 * The pods are scripted ones (test/helpers/scripted-pod.ts) on 127.0.207.x.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import type { TempConfig } from '../helpers/fleet.js';
import { failure, type OpenAIFailure } from '../helpers/openai-failure.js';
import { startGatewayOver, startScriptedPod, type ScriptedPod } from '../helpers/scripted-pod.js';

const PODS = ['127.0.207.2', '127.0.207.3'];
const HOST = '127.0.207.1';
const MODEL = 'reset/model';

let pods: ScriptedPod[] = [];
let cfg: TempConfig;
let gw: RunningGateway;
let client: OpenAI;

before(async () => {
  // They close the connection of every chat request without answering, on one port, as a pool's pods do.
  let port = 0;
  for (const ip of PODS) {
    const pod = await startScriptedPod({ host: ip, port, model: MODEL, paths: { '/v1/chat/completions': (req) => req.socket.destroy() } });
    port = pod.port;
    pods.push(pod);
  }
  ({ gw, cfg } = await startGatewayOver('reset', pods, { host: HOST, adminHost: HOST }));
  client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await Promise.all(pods.map((p) => p.close()));
  await cfg?.remove();
});

/** The status and message of a chat request that must fail. */
const chatFailure = (): Promise<OpenAIFailure> => failure(client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] }));

test('pods that accept and close the connection: no answer, each reset named, not "could not connect"', async () => {
  const f = await chatFailure();
  assert.deepEqual([f.status, f.code], [502, 'upstream_unavailable'], f.message);
  assert.match(f.message, /could not get an answer from any endpoint of InferencePool default\/reset after 2 attempt\(s\)/);
  assert.match(f.message, /UND_ERR_SOCKET \(the connection was closed or reset before an answer\)/);
});

test('pods that refuse connections: "could not connect"', async () => {
  await Promise.all(pods.map((p) => p.close()));
  pods = [];
  const f = await chatFailure();
  assert.deepEqual([f.status, f.code], [502, 'upstream_unavailable'], f.message);
  assert.match(f.message, /could not connect to any endpoint of InferencePool default\/reset after 2 attempt\(s\): .*ECONNREFUSED/);
});
