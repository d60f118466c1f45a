/**
 * Every endpoint vLLM serves, through the gateway, with the official `openai` client: audio uploads routed by
 * their `model` form field, embeddings, the Responses API (retrieve, delete and follow-ups reaching the pod
 * that holds the response), rerank, score and tokenize, each routed by model to its pool; `models.retrieve`;
 * and the retry advice the client obeys (`retry-after`, `x-should-retry: false`). Two pools, each with its own
 * simulated pods: `chat` on 127.0.87.x, `media` on 127.0.88.x.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI, { toFile } from 'openai';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const QWEN = 'Qwen/Qwen3-0.6B';
const BGE = 'BAAI/bge-m3';
const WHISPER = 'openai/whisper-large-v3';
/** Served by a pod that is not Ready at first: requests for it get a 503 with retry-after. */
const LATE = 'late/model';
/** Named by an allowlist ConfigMap, served by no pod: a 503 no retry can fix. */
const DECLARED = 'declared-lora';
const FAST = { ttftMs: 0, itlMs: 1, mode: 'echo' } as const;

let chat: Fleet;
let media: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;
/** `/v1` paths, no retries: every failure shows. */
let v1: OpenAI;
/** vLLM's root paths (`/tokenize`, `/rerank`, `/score`), through the client's generic `post`. */
let root: OpenAI;

const latePod = (ready: boolean): string => podYaml('late-0', chat.ipOf('late-0'), { app: 'late' }, { ready });

before(async () => {
  chat = await startFleet(87, [
    { name: 'chat-0', labels: { app: 'chat' }, model: QWEN, task: 'generate', ...FAST },
    { name: 'chat-1', labels: { app: 'chat' }, model: QWEN, task: 'generate', ...FAST },
    { name: 'late-0', labels: { app: 'late' }, model: LATE, task: 'generate', ...FAST },
  ]);
  media = await startFleet(88, [
    { name: 'bge-0', labels: { app: 'media' }, model: BGE, task: 'embed', embeddingDimensions: 8, ...FAST },
    { name: 'bge-1', labels: { app: 'media' }, model: BGE, task: 'embed', embeddingDimensions: 8, ...FAST },
    { name: 'whisper-0', labels: { app: 'media' }, model: WHISPER, task: 'transcription', ...FAST },
  ]);
  const pods = [...['chat-0', 'chat-1'].map((n) => podYaml(n, chat.ipOf(n), { app: 'chat' })), ...['bge-0', 'bge-1', 'whisper-0'].map((n) => podYaml(n, media.ipOf(n), { app: 'media' }))];
  const docs = [
    ...pods,
    poolYaml('chat', { app: 'chat' }, chat.port),
    poolYaml('late', { app: 'late' }, chat.port),
    poolYaml('media', { app: 'media' }, media.port),
    baseModelRouteYaml('qwen', QWEN, [['chat', 1]]),
    baseModelRouteYaml('late', LATE, [['late', 1]]),
    baseModelRouteYaml('bge', BGE, [['media', 1]]),
    baseModelRouteYaml('whisper', WHISPER, [['media', 1]]),
    allowlistYaml('qwen-allowlist', QWEN, [DECLARED]),
    allowlistYaml('late-allowlist', LATE, []),
  ];
  cfg = await tempConfig({ 'all.yaml': docs.join('---\n'), 'late-pod.yaml': latePod(false) });
  gw = await startTestGateway(cfg.dir);
  v1 = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  root = new OpenAI({ baseURL: gw.url, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await gw?.close();
  await chat?.close();
  await media?.close();
  await cfg?.remove();
});

/** The simulated pod that answered (its `x-inference-pod` header, passed through by the gateway). */
function podOf(response: Response): string | null {
  return response.headers.get('x-inference-pod');
}

describe('audio uploads are routed by their multipart `model` field', () => {
  test('transcriptions and translations reach the whisper pod of the media pool', async () => {
    const file = await toFile(Buffer.from('hello from a small audio file'), 'speech.wav', { type: 'audio/wav' });
    const { data: transcript, response } = await v1.audio.transcriptions.create({ model: WHISPER, file }).withResponse();
    assert.equal(transcript.text, 'hello from a small audio file');
    assert.equal(podOf(response), 'whisper-0');
    const translated = await v1.audio.translations.create({ model: WHISPER, file: await toFile(Buffer.from('bonjour'), 'fr.wav') }).withResponse();
    assert.equal(translated.data.text, 'bonjour');
    assert.equal(podOf(translated.response), 'whisper-0');
  });

  test('an upload without a model field is a 400 missing_model that says so', async () => {
    const form = new FormData();
    form.append('file', new Blob([Buffer.from('audio')]), 'speech.wav');
    const res = await fetch(`${gw.url}/v1/audio/transcriptions`, { method: 'POST', body: form });
    const body = (await res.json()) as { error: { code: string; message: string; param: string } };
    assert.equal(res.status, 400);
    assert.equal(body.error.code, 'missing_model');
    assert.match(body.error.message, /multipart\/form-data body has no `model` field/);
  });

  test('a body that is neither JSON nor multipart: the 400 names the Content-Type it had', async () => {
    const res = await fetch(`${gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'hello' });
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(res.status, 400);
    assert.equal(body.error.code, 'invalid_json');
    assert.match(body.error.message, /The request's Content-Type is `text\/plain`; the gateway reads `model` from a JSON body/);
  });
});

describe('JSON endpoints are routed by model to their pool', () => {
  test('embeddings reach a bge pod', async () => {
    const { data, response } = await v1.embeddings.create({ model: BGE, input: ['an inference gateway', 'routes by model'], encoding_format: 'float' }).withResponse();
    assert.match(podOf(response) ?? '', /^bge-[01]$/);
    assert.equal(data.data.length, 2);
    assert.equal(data.data[0]?.embedding.length, 8);
  });

  test('rerank and score (root and /v1 paths) reach a bge pod; tokenize reaches the pool of its model', async () => {
    const rerank = await root.post<{ results: { index: number }[] }>('/rerank', { body: { model: BGE, query: 'inference gateway', documents: ['a cat', 'an inference gateway'] } }).withResponse();
    assert.match(podOf(rerank.response) ?? '', /^bge-[01]$/);
    assert.equal(rerank.data.results[0]?.index, 1);
    const v1Rerank = await root.post<{ results: unknown[] }>('/v1/rerank', { body: { model: BGE, query: 'q', documents: ['d'] } }).withResponse();
    assert.match(podOf(v1Rerank.response) ?? '', /^bge-[01]$/);
    for (const path of ['/score', '/v1/score']) {
      const score = await root.post<{ data: { score: number }[] }>(path, { body: { model: BGE, text_1: 'inference gateway', text_2: 'an inference gateway' } }).withResponse();
      assert.match(podOf(score.response) ?? '', /^bge-[01]$/, path);
      assert.equal(score.data.data.length, 1);
    }
    const qwenTokens = await root.post<{ count: number; tokens: number[] }>('/tokenize', { body: { model: QWEN, prompt: 'count these tokens' } }).withResponse();
    assert.match(podOf(qwenTokens.response) ?? '', /^chat-[01]$/);
    assert.equal(qwenTokens.data.count, qwenTokens.data.tokens.length);
    const bgeTokens = await root.post<{ count: number }>('/tokenize', { body: { model: BGE, prompt: 'count these tokens' } }).withResponse();
    assert.match(podOf(bgeTokens.response) ?? '', /^bge-[01]$/);
    const text = await root.post<{ prompt: string }>('/detokenize', { body: { model: QWEN, tokens: qwenTokens.data.tokens } }).withResponse();
    assert.match(podOf(text.response) ?? '', /^chat-[01]$/);
    assert.equal(text.data.prompt, 'count these tokens');
  });
});

describe('the Responses API: creation routed by model, stored responses on the pod that holds them', () => {
  test('whole: retrieve, follow-ups and delete reach the same pod; then the gateway says it was deleted', async () => {
    const { data: created, response } = await v1.responses.create({ model: QWEN, input: 'remember this' }).withResponse();
    const pod = podOf(response);
    assert.match(pod ?? '', /^chat-[01]$/);
    // Two pods: four retrievals that all find it would pass by chance one time in sixteen.
    for (let i = 0; i < 4; i++) {
      const got = await v1.responses.retrieve(created.id).withResponse();
      assert.equal(got.data.output_text, 'remember this');
      assert.equal(podOf(got.response), pod);
    }
    for (let i = 0; i < 3; i++) {
      const next = await v1.responses.create({ model: QWEN, input: 'and more', previous_response_id: created.id }).withResponse();
      assert.equal(next.data.previous_response_id, created.id);
      assert.equal(podOf(next.response), pod);
    }
    const deleted = await v1.responses.delete(created.id).withResponse();
    assert.equal(podOf(deleted.response), pod);
    await assert.rejects(v1.responses.retrieve(created.id), (e: unknown) => e instanceof OpenAI.NotFoundError && (e.error as { code?: string }).code === 'response_not_found' && /was deleted through this gateway at /.test(e.message));
  });

  test('streamed: the id is read from the stream as it passes, and retrieval reaches the pod that streamed it', async () => {
    const { data: stream, response } = await v1.responses.create({ model: QWEN, input: 'stream and keep', stream: true }).withResponse();
    let id: string | undefined;
    for await (const event of stream) if (event.type === 'response.completed') id = event.response.id;
    assert.ok(id);
    const pod = podOf(response);
    for (let i = 0; i < 4; i++) {
      const got = await v1.responses.retrieve(id).withResponse();
      assert.equal(got.data.output_text, 'stream and keep');
      assert.equal(podOf(got.response), pod);
    }
  });
});

describe('models and retry advice', () => {
  test('models.retrieve answers from what the pods serve; an unknown model is a 404 listing them', async () => {
    const qwen = await v1.models.retrieve(QWEN);
    assert.equal(qwen.id, QWEN);
    assert.equal(qwen.object, 'model');
    assert.equal(qwen.owned_by, 'vllm');
    await assert.rejects(v1.models.retrieve('gpt-4o'), (e: unknown) => e instanceof OpenAI.NotFoundError && /model `gpt-4o` is not served here/.test(e.message));
  });

  test('the 404 lists what is served (exactly GET /v1/models) apart from what ConfigMaps declare but no pod serves', async () => {
    let message = '';
    await assert.rejects(v1.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.NotFoundError);
      message = e.message;
      return true;
    });
    const served = /Served models: (.*?)\. Declared/.exec(message)?.[1]?.split(', ');
    const listed = (await v1.models.list()).data.map((m) => m.id);
    assert.deepEqual(new Set(served), new Set(listed));
    assert.match(message, /Declared in allowlist ConfigMaps but not served by any pod: declared-lora, late\/model\./);
    assert.ok(!listed.includes(DECLARED));
  });

  test('a 503 no retry can fix (no pod serves the model): x-should-retry false, no retry-after, and the client does not retry', async () => {
    const statuses: number[] = [];
    const client = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: 'unused',
      maxRetries: 2,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        statuses.push(res.status);
        return res;
      },
    });
    await assert.rejects(client.chat.completions.create({ model: DECLARED, messages: [{ role: 'user', content: 'hi' }] }), (e: unknown) => {
      assert.ok(e instanceof OpenAI.InternalServerError);
      assert.equal(e.status, 503);
      assert.match(e.message, /no pod of InferencePool default\/chat serves model `declared-lora`, so a retry will not help/);
      assert.equal(e.headers?.get('retry-after'), null);
      assert.equal(e.headers?.get('x-should-retry'), 'false');
      return true;
    });
    assert.deepEqual(statuses, [503]);
  });

  test('a 503 a retry can fix (its pod is not Ready yet) carries retry-after, and the client retries after it and succeeds', async () => {
    const attempts: { status: number; retryAfter: string | null }[] = [];
    const client = new OpenAI({
      baseURL: `${gw.url}/v1`,
      apiKey: 'unused',
      maxRetries: 2,
      fetch: async (input, init) => {
        const res = await fetch(input, init);
        attempts.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
        if (res.status === 503 && attempts.length === 1) {
          // The pod becomes Ready while the client waits out retry-after.
          await cfg.write('late-pod.yaml', latePod(true));
          assert.ok(await waitFor(async () => (await v1.models.list()).data.some((m) => m.id === LATE), 10_000), 'the late pod was not discovered');
        }
        return res;
      },
    });
    const answer = await client.chat.completions.create({ model: LATE, messages: [{ role: 'user', content: 'late but here' }] });
    assert.equal(answer.choices[0]?.message.content, 'late but here');
    assert.deepEqual(attempts, [
      { status: 503, retryAfter: '1' },
      { status: 200, retryAfter: null },
    ]);
  });
});
