/**
 * The edges of vLLM's API through the gateway, as a client meets them: methods the gateway does not answer on
 * its own paths (/v1/models), the wrong method on an upload path, an empty form, and streamed audio uploads
 * (and forms that repeat their `model` field) reaching the pod their model names. Pods on 127.0.173.x.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const GEN = 'edges/generate';
const ASR = 'edges/whisper';
const HOST = '127.0.173.1';
const FAST = { ttftMs: 0, itlMs: 0, mode: 'echo' } as const;

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
let v1: OpenAI;

before(async () => {
  fleet = await startFleet(173, [
    { name: 'gen-0', labels: {}, model: GEN, task: 'generate', ...FAST },
    { name: 'asr-0', labels: {}, model: ASR, task: 'transcription', ...FAST },
  ]);
  const docs = [
    podYaml('gen-0', fleet.ipOf('gen-0'), { app: 'gen' }),
    podYaml('asr-0', fleet.ipOf('asr-0'), { app: 'asr' }),
    poolYaml('gen', { app: 'gen' }, fleet.port),
    poolYaml('asr', { app: 'asr' }, fleet.port),
    baseModelRouteYaml('gen', GEN, [['gen', 1]]),
    baseModelRouteYaml('asr', ASR, [['asr', 1]]),
  ];
  cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST });
  v1 = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  assert.ok(await waitFor(async () => (await v1.models.list()).data.length === 2), 'both pods said what they serve');
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

interface ErrorBody {
  error: { code: string; message: string; type: string };
}

describe('/v1/models is the gateway’s, and GET only', () => {
  test('POST, PUT and DELETE on /v1/models and /v1/models/{id} get 405 with Allow: GET, HEAD, not a missing_model or a route_not_found', async () => {
    const cases: [string, string, string | undefined][] = [
      ['POST', '/v1/models', undefined],
      ['POST', '/v1/models', JSON.stringify({ model: GEN })],
      ['PUT', '/v1/models', '{}'],
      ['DELETE', '/v1/models', undefined],
      ['DELETE', `/v1/models/${encodeURIComponent(GEN)}`, undefined],
      ['POST', `/v1/models/${encodeURIComponent(GEN)}`, '{}'],
    ];
    for (const [method, path, body] of cases) {
      const r = await fetch(`${gw.url}${path}`, { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) });
      const what = `${method} ${path} ${body ?? ''}`;
      assert.equal(r.status, 405, what);
      assert.equal(r.headers.get('allow'), 'GET, HEAD', what);
      assert.equal(r.headers.get('x-should-retry'), 'false', what);
      const err = ((await r.json()) as ErrorBody).error;
      assert.equal(err.code, 'method_not_allowed', what);
      assert.match(err.message, new RegExp(`^${method} /v1/models\\S* is not served: the gateway answers GET /v1/models and GET /v1/models/\\{model\\} itself`), what);
    }
  });

  test('the openai client’s models.delete is a 405 it does not retry; list and retrieve still answer', async () => {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 2 });
    await assert.rejects(client.models.delete(GEN), (e: unknown) => e instanceof OpenAI.APIError && e.status === 405 && /is not served/.test(e.message));
    assert.equal((await client.models.retrieve(GEN)).id, GEN);
    const head = await fetch(`${gw.url}/v1/models`, { method: 'HEAD' });
    assert.equal(head.status, 200);
  });
});

describe('audio upload paths', () => {
  test('GET on an upload path: the 405 says it takes a multipart form, not a JSON body', async () => {
    const r = await fetch(`${gw.url}/v1/audio/translations`);
    assert.equal(r.status, 405);
    assert.equal(r.headers.get('allow'), 'POST');
    assert.equal(
      ((await r.json()) as ErrorBody).error.message,
      'GET /v1/audio/translations is not served: /v1/audio/translations takes POST (with a multipart/form-data body: the audio in a `file` part, the model in a `model` field)',
    );
    const chat = await fetch(`${gw.url}/v1/chat/completions`);
    assert.match(((await chat.json()) as ErrorBody).error.message, /takes POST \(with a JSON body naming the model\)$/);
  });

  test('an empty multipart/form-data body is a 400 saying the form is empty, not that JSON was expected', async () => {
    const r = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=abc' } });
    assert.equal(r.status, 400);
    const err = ((await r.json()) as ErrorBody).error;
    assert.equal(err.code, 'bad_request');
    assert.match(err.message, /^the request body is not valid multipart\/form-data: the body is empty\./);
  });

  test('a streamed transcription through the gateway: the openai client reads every chunk from the pod of its model', async () => {
    const { data: stream, response } = await v1.audio.transcriptions.create({ model: ASR, file: await toFile(Buffer.from('say it twice'), 'speech.txt'), stream: true }).withResponse();
    assert.equal(response.headers.get('x-inference-pod'), 'asr-0');
    let text = '';
    for await (const chunk of stream) text += (chunk as unknown as { choices: { delta: { content: string } }[] }).choices[0]?.delta.content ?? '';
    assert.equal(text, 'say it twice');
  });

  test('a form that names its model twice is routed by the last and answered by it (the pod reads the last too)', async () => {
    const form = new FormData();
    form.append('model', GEN);
    form.append('file', new Blob(['hello there']), 'speech.txt');
    form.append('model', ASR);
    const r = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
    assert.equal(r.status, 200, await r.clone().text());
    assert.equal(r.headers.get('x-inference-pod'), 'asr-0');
    assert.equal(((await r.json()) as { text: string }).text, 'hello there');
  });
});
