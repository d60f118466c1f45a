/**
 * What data planes other than the newest Envoy send: no protocol_config (Envoy before 1.34, other data planes),
 * GIE's flag spellings. Envoy's messages replayed over real gRPC on 127.0.245.x; no Envoy binary runs.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { allowlistYaml } from '../../src/config/manifests.js';
import { ExtProcClient, requestBody, requestHeaders, responseBody, responseHeaders } from '../../src/extproc/ext-proc-client.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { ended, startTestExtproc } from '../helpers/extproc.js';
import { tempConfig, type TempConfig } from '../helpers/fleet.js';

const GEMMA = 'google/gemma-2b-it';
const HOST = '127.0.245.10';
const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.example', 'content-type': 'application/json' };
const chat = (model: string): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'hi' }] });

let cfg: TempConfig;
let xp: RunningExtproc;
let client: ExtProcClient;

before(async () => {
  cfg = await tempConfig({ 'allowlists.yaml': allowlistYaml('gemma', GEMMA, []) });
  xp = await startTestExtproc({ configPath: cfg.dir, host: HOST });
  client = new ExtProcClient(`${HOST}:${xp.ports.bbr}`);
});

after(async () => {
  client?.close();
  await xp?.close();
  await cfg?.remove();
});

describe('without protocol_config', () => {
  test('the response body is assumed FULL_DUPLEX_STREAMED too: every response chunk is sent back', async () => {
    const s = client.open().send(requestHeaders(CHAT, false), requestBody(chat(GEMMA), true));
    assert.equal((await s.next()).response, 'request_headers');
    assert.equal((await s.next()).response, 'request_body');
    s.send(responseHeaders({ ':status': '200' }, false), responseBody('data: one\n\n', false), responseBody('data: [DONE]\n\n', true));
    assert.deepEqual(await s.next(), { response_headers: {}, response: 'response_headers' });
    const chunk = (body: string, eos: boolean): unknown => ({
      response_body: { response: { body_mutation: { streamed_response: eos ? { body: Buffer.from(body), end_of_stream: true } : { body: Buffer.from(body) }, mutation: 'streamed_response' } } },
      response: 'response_body',
    });
    assert.deepEqual(await s.next(), chunk('data: one\n\n', false));
    assert.deepEqual(await s.next(), chunk('data: [DONE]\n\n', true));
    await ended(s);
  });

  test('a data plane that says its response body mode is BUFFERED gets a plain answer', async () => {
    const s = client.open().send(requestHeaders(CHAT, false, { protocol: { request: 'FULL_DUPLEX_STREAMED', response: 'BUFFERED' } }), requestBody(chat(GEMMA), true));
    assert.equal((await s.next()).response, 'request_headers');
    assert.equal((await s.next()).response, 'request_body');
    s.send(responseHeaders({ ':status': '200' }, false), responseBody('{}', true));
    assert.equal((await s.next()).response, 'response_headers');
    assert.deepEqual(await s.next(), { response_body: {}, response: 'response_body' });
    await ended(s);
  });
});
