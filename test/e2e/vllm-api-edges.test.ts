/**
 * The edges of vLLM's API through the gateway, as a client meets them: methods the gateway does not answer on
 * its own paths (/v1/models), the wrong method on an upload path, an empty form, streamed audio uploads (and
 * forms that repeat their `model` field) reaching the pod their model names, and audio files as large as vLLM
 * takes. Pods on 127.0.173.x.
 */
import { after, before, describe, test } from 'node:test';
import { request } from 'node:http';
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
    // A trailing slash names no model: the list, as vLLM's redirect gives it, not a 404 for the model ``.
    const slash = await fetch(`${gw.url}/v1/models/`);
    assert.equal(slash.status, 200);
    assert.deepEqual(((await slash.json()) as { data: { id: string }[] }).data.map((m) => m.id).sort(), [ASR, GEN].sort());
  });
});

describe("a model server's own endpoints (/health, /version, /load, /metrics, /ping)", () => {
  test('no rule routes them: the 404 says they are one pod\'s and names the gateway\'s own, not header matches', async () => {
    for (const path of ['/health', '/version', '/load', '/metrics', '/ping']) {
      const r = await fetch(`${gw.url}${path}`);
      assert.equal(r.status, 404, path);
      const err = ((await r.json()) as ErrorBody).error;
      assert.equal(err.code, 'route_not_found', path);
      assert.match(err.message, new RegExp(`^GET ${path} is a model server's own endpoint, about one pod, and no HTTPRoute rule routes it`), path);
      assert.match(err.message, /GET \/healthz \(liveness\), GET \/readyz \(readiness\) and GET \/metrics on its admin port/, path);
      assert.doesNotMatch(err.message, /x-gateway-base-model-name/i, path);
    }
    // vLLM also serves POST /ping (SageMaker's probe), with no body: the same 404, not one about the empty body.
    const post = await fetch(`${gw.url}/ping`, { method: 'POST' });
    assert.equal(post.status, 404);
    assert.match(((await post.json()) as ErrorBody).error.message, /^POST \/ping is a model server's own endpoint/);
    // Another path without a model still gets the closest rules.
    const other = ((await (await fetch(`${gw.url}/v1/unknown`)).json()) as ErrorBody).error;
    assert.match(other.message, /Closest rules: .*header x-gateway-base-model-name is missing/);
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

describe('upload size: multipart/form-data bodies have their own limit, --max-upload-bytes', () => {
  test('by default a 20 MB audio file (vLLM and OpenAI take up to 25 MB) passes, where JSON bodies stop at 16 MiB', async () => {
    const file = await toFile(Buffer.alloc(20 * 1000 * 1000), 'long.wav');
    const { data, response } = await v1.audio.transcriptions.create({ model: ASR, file }).withResponse();
    assert.equal(response.headers.get('x-inference-pod'), 'asr-0');
    assert.ok(data.text.length > 0);
    const json = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: GEN, messages: [{ role: 'user', content: 'x'.repeat(17 * 1024 * 1024) }] }) });
    assert.equal(json.status, 413);
    assert.match(((await json.json()) as ErrorBody).error.message, /limit of 16777216 bytes \(--max-body-bytes\)$/);
  });

  test('each limit applies to its kind of body, and each 413 names its flag; Expect: 100-continue is answered by the same limit', async (t) => {
    const small = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST, maxBodyBytes: 1000, maxUploadBytes: 4000 });
    t.after(() => small.close());
    const client = new OpenAI({ baseURL: `${small.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    assert.ok(await waitFor(async () => (await client.models.list()).data.length === 2));
    const upload = async (bytes: number): Promise<unknown> => client.audio.transcriptions.create({ model: ASR, file: await toFile(Buffer.alloc(bytes, 0x41), 'a.wav') });
    // Over --max-body-bytes but within --max-upload-bytes: served.
    assert.ok(((await upload(2000)) as { text: string }).text.length > 0);
    await assert.rejects(upload(5000), (e: unknown) => e instanceof OpenAI.APIError && e.status === 413 && /limit of 4000 bytes \(--max-upload-bytes, for multipart\/form-data uploads\)$/.test(e.message));
    const json = await fetch(`${small.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: GEN, messages: [{ role: 'user', content: 'x'.repeat(2000) }] }) });
    assert.equal(json.status, 413);
    assert.match(((await json.json()) as ErrorBody).error.message, /limit of 1000 bytes \(--max-body-bytes\)$/);
    // A client that waits for 100 Continue before sending a 2000-byte form gets it; the same size as JSON gets the 413.
    const expect = (contentType: string): Promise<number> =>
      new Promise((resolve, reject) => {
        const req = request(`${small.url}/v1/audio/transcriptions`, { method: 'POST', headers: { 'content-type': contentType, 'content-length': 2000, expect: '100-continue' } });
        req.on('continue', () => {
          req.destroy();
          resolve(100);
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
      });
    assert.equal(await expect('multipart/form-data; boundary=x'), 100);
    assert.equal(await expect('application/json'), 413);
  });
});

describe('stored responses with --max-response-ids 0', () => {
  test('a retrieve, delete or cancel no route takes says the gateway keeps no response ids and how to change that', async () => {
    const off = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST, maxResponseIds: 0 });
    try {
      const client = new OpenAI({ baseURL: `${off.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      // The cancel, a POST with no body, was refused as 400 invalid_json.
      const calls = { retrieve: () => client.responses.retrieve('resp_abc'), delete: () => client.responses.delete('resp_abc'), cancel: () => client.responses.cancel('resp_abc') };
      for (const [name, call] of Object.entries(calls)) await assert.rejects(call(), (e: unknown) => {
        assert.ok(e instanceof OpenAI.NotFoundError, `${name}: ${String(e)}`);
        const err = e.error as { code?: string; param?: string };
        assert.equal(err.code, 'response_not_found');
        assert.equal(err.param, 'response_id');
        assert.match(e.message, /response `resp_abc` cannot be reached through this gateway: it remembers no response ids \(--max-response-ids 0\)/);
        assert.doesNotMatch(e.message, /x-gateway-base-model-name/i);
        return true;
      });
    } finally {
      await off.close();
    }
  });
});
