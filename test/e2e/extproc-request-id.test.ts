/**
 * The request's x-request-id (the id Envoy gives every request and writes in its access log) on the ext_proc
 * servers' log lines about it, as `serve` logs it, so an Envoy access-log line and infergate's line about the same
 * request can be matched. Envoy's messages replayed over real gRPC on 127.0.0.1; no Envoy binary runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { allowlistYaml } from '../../src/config/manifests.js';
import { ExtProcClient, requestBody, requestHeaders } from '../../src/extproc/ext-proc-client.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { createLogger } from '../../src/logger.js';
import { startTestExtproc } from '../helpers/extproc.js';
import { tempConfig, waitFor, type TempConfig } from '../helpers/fleet.js';

const GEMMA = 'google/gemma-2b-it';
const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.example', 'content-type': 'application/json' };

let cfg: TempConfig;
let xp: RunningExtproc;
let client: ExtProcClient;
const lines: Record<string, unknown>[] = [];

before(async () => {
  cfg = await tempConfig({ 'allowlists.yaml': allowlistYaml('gemma', GEMMA, []) });
  xp = await startTestExtproc({ configPath: cfg.dir, log: createLogger('debug', (l) => lines.push(JSON.parse(l) as Record<string, unknown>), 'json') });
  client = new ExtProcClient(`127.0.0.1:${xp.ports.bbr}`);
});

after(async () => {
  client?.close();
  await xp?.close();
  await cfg?.remove();
});

const logged = async (msg: string, id: string): Promise<Record<string, unknown> | undefined> => {
  await waitFor(() => lines.some((l) => l.msg === msg && l.request_id === id), 2000);
  return lines.find((l) => l.msg === msg && (l.request_id === id || l.request_id === undefined));
};

test('a rejected request is logged with its x-request-id, as serve logs it', async () => {
  // The line named only the processor, the code and the message.
  const s = client.open().send(requestHeaders({ ...CHAT, 'x-request-id': 'req-404' }, false, { protocol: { request: 'FULL_DUPLEX_STREAMED' } }), requestBody(JSON.stringify({ model: 'no/such-model', messages: [] }), true));
  assert.equal((await s.next()).immediate_response?.status?.code, 'NotFound');
  await s.status;
  const line = await logged('ext_proc request rejected', 'req-404');
  assert.equal(line?.request_id, 'req-404', JSON.stringify(line));
  assert.equal(line?.code, 'model_not_found');
});

test('a stream failed for its body mode is logged with the x-request-id of its headers', async () => {
  const s = client.open().send(requestHeaders({ ...CHAT, 'x-request-id': 'req-streamed' }, false, { protocol: { request: 'STREAMED' } }));
  assert.equal((await s.status).code, status.FAILED_PRECONDITION);
  const line = await logged('ext_proc stream failed', 'req-streamed');
  assert.equal(line?.request_id, 'req-streamed', JSON.stringify(line));
});
