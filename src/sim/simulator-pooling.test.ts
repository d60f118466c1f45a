/** HTTP tests for the pooling endpoints: embeddings, pooling, classify, score and rerank, in vLLM's shapes. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { postJson, sampleValue, testSimulator } from './test-kit.js';

/** This file's simulators listen on 127.0.80.x (the octet given to this work), port 0. */
const HOST = '127.0.80.1';
const FAST = { host: HOST, ttftMs: 0, itlMs: 1, embeddingDimensions: 8 } as const;

interface Embeddings {
  id: string;
  object: string;
  created: number;
  model: string;
  data: Array<{ index: number; object: string; embedding: number[] | string }>;
  usage: Record<string, unknown>;
}

test('embeddings: unit vectors per input in order, usage in tokens, base64 as float32', async (t) => {
  const sim = await testSimulator(t, FAST);
  const res = await postJson(sim, '/v1/embeddings', { model: 'base-model', input: ['hello world', 'other text here'] });
  assert.equal(res.status, 200);
  const body = (await res.json()) as Embeddings;
  assert.match(body.id, /^embd-[0-9a-f]{32}$/);
  assert.equal(body.object, 'list');
  assert.equal(body.model, 'base-model');
  assert.deepEqual(body.data.map((d) => [d.index, d.object, (d.embedding as number[]).length]), [[0, 'embedding', 8], [1, 'embedding', 8]]);
  for (const d of body.data) assert.ok(Math.abs(Math.hypot(...(d.embedding as number[])) - 1) < 1e-9);
  // ceil(11 / 4) + ceil(15 / 4), as /tokenize counts them.
  assert.deepEqual(body.usage, { prompt_tokens: 7, total_tokens: 7, completion_tokens: 0, prompt_tokens_details: null });

  const b64 = (await (await postJson(sim, '/v1/embeddings', { model: 'base-model', input: 'hello world', encoding_format: 'base64' })).json()) as Embeddings;
  const buf = Buffer.from(b64.data[0]?.embedding as string, 'base64');
  const floats = Array.from({ length: 8 }, (_, i) => buf.readFloatLE(i * 4));
  floats.forEach((x, i) => assert.ok(Math.abs(x - (body.data[0]?.embedding as number[])[i]!) < 1e-6));

  // Token ids from /tokenize embed like their text; `dimensions` truncates and renormalises.
  const { tokens } = (await (await postJson(sim, '/tokenize', { prompt: 'hello world' })).json()) as { tokens: number[] };
  const fromIds = (await (await postJson(sim, '/v1/embeddings', { model: 'base-model', input: [tokens], dimensions: 4 })).json()) as Embeddings;
  const short = fromIds.data[0]?.embedding as number[];
  assert.equal(short.length, 4);
  assert.ok(Math.abs(Math.hypot(...short) - 1) < 1e-9);
  const full = body.data[0]?.embedding as number[];
  const scale = Math.hypot(...full.slice(0, 4));
  short.forEach((x, i) => assert.ok(Math.abs(x - full[i]! / scale) < 1e-9));
  assert.equal(fromIds.usage.prompt_tokens, tokens.length);
});

test('embeddings run through the engine and refuse bad input with a 400 naming the field', async (t) => {
  const sim = await testSimulator(t, FAST);
  const before = sim.stats().totalRequests;
  await (await postJson(sim, '/v1/embeddings', { model: 'base-model', input: ['a', 'b', 'c'] })).text();
  assert.equal(sim.stats().totalRequests - before, 3, 'one prefill per input');
  const metrics = await (await fetch(`${sim.url}/metrics`)).text();
  assert.equal(sampleValue(metrics, 'vllm:prompt_tokens_total{model_name="base-model",engine="0"}'), 3);

  const cases: Array<[unknown, number, string | null, RegExp]> = [
    [{ model: 'base-model' }, 400, 'input', /`input` must be/],
    [{ model: 'base-model', input: [] }, 400, 'input', /`input` must be/],
    [{ model: 'base-model', input: [1, 'a'] }, 400, 'input', /`input` must be/],
    [{ model: 'base-model', input: 'x', encoding_format: 'bytes' }, 400, 'encoding_format', /"float", "base64"/],
    [{ model: 'base-model', input: 'x', dimensions: 9 }, 400, 'dimensions', /at most 8/],
    [{ model: 'base-model', input: [[2 ** 31 + 7]] }, 400, 'input', /not in the simulator's vocabulary/],
    [{ input: 'x' }, 400, 'model', /`model` is required/],
    [{ model: 'nope', input: 'x' }, 404, 'model', /The model `nope` does not exist/],
  ];
  for (const [body, status, param, message] of cases) {
    const res = await postJson(sim, '/v1/embeddings', body);
    const err = ((await res.json()) as { error: { message: string; param: string | null; code: number } }).error;
    assert.equal(res.status, status, JSON.stringify(body));
    assert.equal(err.code, status);
    assert.equal(err.param, param, JSON.stringify(body));
    assert.match(err.message, message);
  }
  const long = await postJson(sim, '/v1/embeddings', { model: 'base-model', input: 'x'.repeat(4 * 32768 + 4) });
  assert.equal(long.status, 400);
  assert.match(((await long.json()) as { error: { message: string } }).error.message, /maximum context length is 32768 tokens.*embedding generation/);
});

test('pooling and classify answer in vLLM shapes; chat messages pool as one input', async (t) => {
  const sim = await testSimulator(t, FAST);
  const pooled = (await (await postJson(sim, '/pooling', { model: 'base-model', messages: [{ role: 'user', content: 'hi there' }] })).json()) as {
    id: string;
    data: Array<{ index: number; object: string; data: number[] }>;
    usage: { prompt_tokens: number };
  };
  assert.match(pooled.id, /^pool-/);
  assert.deepEqual(pooled.data.map((d) => [d.index, d.object, d.data.length]), [[0, 'pooling', 8]]);
  assert.equal(pooled.usage.prompt_tokens, 2);

  const classified = (await (await postJson(sim, '/classify', { model: 'base-model', input: ['good', 'bad'] })).json()) as {
    id: string;
    object: string;
    data: Array<{ index: number; label: string; probs: number[]; num_classes: number }>;
  };
  assert.match(classified.id, /^classify-/);
  assert.equal(classified.object, 'list');
  for (const [i, d] of classified.data.entries()) {
    assert.equal(d.index, i);
    assert.equal(d.num_classes, 2);
    assert.ok(Math.abs(d.probs[0]! + d.probs[1]! - 1) < 1e-9);
    assert.equal(d.label, d.probs[1]! > d.probs[0]! ? 'LABEL_1' : 'LABEL_0');
  }
});

test('score pairs 1:N and N:N; rerank sorts by relevance and keeps top_n; /v1 and root paths alike', async (t) => {
  const sim = await testSimulator(t, FAST);
  const docs = ['inference gateways route requests', 'bananas are yellow', 'gateways route'];
  for (const path of ['/score', '/v1/score']) {
    const res = await postJson(sim, path, { model: 'base-model', text_1: 'gateways route requests', text_2: docs });
    const body = (await res.json()) as { id: string; object: string; data: Array<{ index: number; object: string; score: number }>; usage: { prompt_tokens: number } };
    assert.equal(res.status, 200, path);
    assert.match(body.id, /^score-/);
    assert.deepEqual(body.data.map((d) => [d.index, d.object]), [[0, 'score'], [1, 'score'], [2, 'score']]);
    for (const d of body.data) assert.ok(d.score >= 0 && d.score <= 1);
    assert.ok(body.data[0]!.score > body.data[1]!.score, 'shared words score higher');
  }
  const nn = (await (await postJson(sim, '/score', { model: 'base-model', queries: ['a b', 'c d'], documents: ['a b', 'x y'] })).json()) as { data: Array<{ score: number }> };
  assert.ok(Math.abs(nn.data[0]!.score - 1) < 1e-9, 'the same words score 1');
  const mismatch = await postJson(sim, '/score', { model: 'base-model', text_1: ['a', 'b'], text_2: ['a', 'b', 'c'] });
  assert.equal(mismatch.status, 400);
  assert.match(((await mismatch.json()) as { error: { message: string } }).error.message, /1:1, 1:N or N:N; got 2:3/);

  for (const path of ['/rerank', '/v1/rerank', '/v2/rerank']) {
    const res = await postJson(sim, path, { model: 'base-model', query: 'gateways route requests', documents: docs, top_n: 2 });
    const body = (await res.json()) as { id: string; model: string; usage: Record<string, number>; results: Array<{ index: number; document: { text: string }; relevance_score: number }> };
    assert.equal(res.status, 200, path);
    assert.match(body.id, /^rerank-/);
    assert.equal(body.results.length, 2);
    assert.ok(body.results[0]!.relevance_score >= body.results[1]!.relevance_score);
    assert.notEqual(body.results[0]!.index, 1, 'the banana document is not the best match');
    assert.equal(body.results[0]!.document.text, docs[body.results[0]!.index]);
    assert.equal(body.usage.prompt_tokens, body.usage.total_tokens);
  }
  const noQuery = await postJson(sim, '/rerank', { model: 'base-model', documents: ['a'] });
  assert.equal(((await noQuery.json()) as { error: { param: string } }).error.param, 'query');
});

test('--task decides which APIs a pod serves, as vLLM mounts only its model task routes', async (t) => {
  const generate = await testSimulator(t, { ...FAST, task: 'generate' });
  const refused = await postJson(generate, '/v1/embeddings', { model: 'base-model', input: 'x' });
  assert.equal(refused.status, 404);
  assert.match(((await refused.json()) as { error: { message: string } }).error.message, /does not support the Embeddings API.*--task embed/);
  assert.equal((await postJson(generate, '/tokenize', { prompt: 'x' })).status, 200);

  const embed = await testSimulator(t, { ...FAST, task: 'embed' });
  const chat = await postJson(embed, '/v1/chat/completions', { model: 'base-model', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(chat.status, 404);
  await chat.text();
  assert.equal((await postJson(embed, '/rerank', { model: 'base-model', query: 'a', documents: ['a'] })).status, 200);
  assert.equal((await postJson(embed, '/classify', { model: 'base-model', input: 'a' })).status, 404);
});
