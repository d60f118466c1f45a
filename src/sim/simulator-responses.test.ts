/** HTTP tests for the Responses API: the response object, streamed events, stored responses and follow-ups. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RunningSimulator } from './simulator.js';
import { postJson, readNamedSse, testSimulator } from './test-kit.js';

const HOST = '127.0.80.1';

type Json = Record<string, unknown>;

/** A named-event SSE body with each event's `data:` parsed. */
async function readNamedEvents(res: Response): Promise<Array<{ event: string; data: Json }>> {
  return (await readNamedSse(res)).map(({ event, data }) => ({ event, data: JSON.parse(data === '' ? '{}' : data) as Json }));
}

async function create(sim: RunningSimulator, body: Json): Promise<Json> {
  const res = await postJson(sim, '/v1/responses', { model: 'base-model', ...body });
  assert.equal(res.status, 200);
  return (await res.json()) as Json;
}

test('non-streamed: a completed response with one assistant message and usage in input/output tokens', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 1 });
  const body = await create(sim, { input: 'hello there world', instructions: 'be brief', metadata: { k: 'v' } });
  assert.match(String(body.id), /^resp_[0-9a-f]{32}$/);
  assert.equal(body.object, 'response');
  assert.equal(body.status, 'completed');
  assert.equal(body.model, 'base-model');
  assert.equal(body.instructions, 'be brief');
  assert.deepEqual(body.metadata, { k: 'v' });
  assert.equal(typeof body.created_at, 'number');
  const output = body.output as Json[];
  assert.equal(output.length, 1);
  assert.match(String(output[0]?.id), /^msg_[0-9a-f]{32}$/);
  assert.deepEqual({ ...output[0], id: 'x' }, {
    id: 'x',
    type: 'message',
    role: 'assistant',
    status: 'completed',
    content: [{ type: 'output_text', text: 'hello there world', annotations: [], logprobs: null }],
  });
  // 'be brief' + 'hello there world' = 25 characters, 7 tokens: what /tokenize says of the same text.
  assert.deepEqual(body.usage, {
    input_tokens: 7,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 3,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 10,
  });
  const counted = (await (await postJson(sim, '/tokenize', { prompt: 'be briefhello there world' })).json()) as { count: number };
  assert.equal(counted.count, 7);

  const cut = await create(sim, { input: [{ role: 'user', content: [{ type: 'input_text', text: 'one two three' }] }], max_output_tokens: 2 });
  assert.equal(cut.status, 'incomplete');
  assert.deepEqual(cut.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(cut.max_output_tokens, 2);
});

test('streamed: created, in_progress, the item and part opened, one delta per token, all done, completed', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 1 });
  const res = await postJson(sim, '/v1/responses', { model: 'base-model', input: 'one two three', stream: true });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
  const events = await readNamedEvents(res);
  assert.deepEqual(events.map((e) => e.event), [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
    'response.output_text.delta',
    'response.output_text.delta',
    'response.output_text.delta',
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
    'response.completed',
  ]);
  events.forEach((e, i) => {
    assert.equal(e.data.type, e.event);
    assert.equal(e.data.sequence_number, i);
  });
  const created = events[0]?.data.response as Json;
  assert.equal(created.status, 'in_progress');
  assert.deepEqual(created.output, []);
  assert.equal(created.usage, null);
  assert.equal(events.slice(4, 7).map((e) => e.data.delta).join(''), 'one two three');
  assert.equal(events[7]?.data.text, 'one two three');
  const completed = events.at(-1)?.data.response as Json;
  assert.equal(completed.id, created.id);
  assert.equal(completed.status, 'completed');
  const itemId = (events[2]?.data.item as Json).id;
  assert.equal(events[4]?.data.item_id, itemId);
  assert.equal(((completed.output as Json[])[0] as Json).id, itemId);
  assert.deepEqual((completed.usage as Json).output_tokens, 3);
});

test('stored responses: retrieve, continue with previous_response_id, delete; unknown ids are 404s', async (t) => {
  const sim = await testSimulator(t, { host: HOST, mode: 'echo', ttftMs: 0, itlMs: 1 });
  const first = await create(sim, { input: 'remember this' });
  const got = await fetch(`${sim.url}/v1/responses/${String(first.id)}`);
  assert.equal(got.status, 200);
  assert.deepEqual(await got.json(), first);

  // The follow-up's prompt is the first turn (input and output) and the new input.
  const next = await create(sim, { input: 'and this', previous_response_id: first.id });
  assert.equal(next.previous_response_id, first.id);
  assert.equal((next.usage as Json).input_tokens, Math.ceil('remember thisremember thisand this'.length / 4));

  const cancel = await postJson(sim, `/v1/responses/${String(first.id)}/cancel`, {});
  assert.equal(cancel.status, 400);
  assert.match(((await cancel.json()) as { error: { message: string } }).error.message, /Cannot cancel a synchronous response/);

  const deleted = await fetch(`${sim.url}/v1/responses/${String(first.id)}`, { method: 'DELETE' });
  assert.deepEqual(await deleted.json(), { id: first.id, object: 'response', deleted: true });
  const unknownCases: Array<[string, string]> = [
    ['GET', `/v1/responses/${String(first.id)}`],
    ['DELETE', `/v1/responses/${String(first.id)}`],
    ['POST', '/v1/responses/resp_nope/cancel'],
  ];
  for (const [method, path] of unknownCases) {
    const res = await fetch(`${sim.url}${path}`, { method });
    assert.equal(res.status, 404, `${method} ${path}`);
    assert.deepEqual(await res.json(), { error: { message: `Response with id '${path.split('/')[3]}' not found.`, type: 'invalid_request_error', param: null, code: 404 } });
  }
  const followUnknown = await postJson(sim, '/v1/responses', { model: 'base-model', input: 'x', previous_response_id: 'resp_gone' });
  assert.equal(followUnknown.status, 404);
  await followUnknown.text();

  const unstored = await create(sim, { input: 'x', store: false });
  assert.equal((await fetch(`${sim.url}/v1/responses/${String(unstored.id)}`)).status, 404);
});

test('bad Responses bodies are 400s naming the field; wrong methods 405', async (t) => {
  const sim = await testSimulator(t, { host: HOST });
  const cases: Array<[Json, string]> = [
    [{ model: 'base-model' }, 'input'],
    [{ model: 'base-model', input: 5 }, 'input'],
    [{ model: 'base-model', input: ['x'] }, 'input'],
    [{ model: 'base-model', input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
    [{ model: 'base-model', input: 'x', background: true }, 'background'],
    [{ model: 'base-model', input: 'x', stream: 'yes' }, 'stream'],
    [{ input: 'x' }, 'model'],
  ];
  for (const [body, param] of cases) {
    const res = await postJson(sim, '/v1/responses', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.equal(((await res.json()) as { error: { param: string } }).error.param, param, JSON.stringify(body));
  }
  const put = await fetch(`${sim.url}/v1/responses/resp_x`, { method: 'PUT' });
  assert.equal(put.status, 405);
  await put.text();
});
