/** The workloads: deterministic per seed, and shaped as their names promise. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '../seeded-random.js';
import { estimateTokens } from '../sim/token-estimate.js';
import type { BenchRequest, Workload } from './workload.js';
import { jsonlWorkload } from './jsonl-workload.js';
import { multiModelWorkload } from './multi-model-workload.js';
import { randomWorkload } from './random-workload.js';
import { sharedPrefixWorkload } from './shared-prefix-workload.js';

function take(w: Workload, n: number, seed = 7): BenchRequest[] {
  const random = seededRandom(seed);
  return Array.from({ length: n }, (_, i) => w.next(i, random));
}

type Message = { role: string; content: string };
const messages = (r: BenchRequest): Message[] => r.body.messages as Message[];

const SHARED = { models: ['m1', 'm2'], groups: 4, systemPromptTokens: 300, users: 3, questionTokens: 40, maxTokens: 8 };

test('shared-prefix: the same seeds give the same requests, another run seed another order', () => {
  assert.deepEqual(take(sharedPrefixWorkload(SHARED), 30), take(sharedPrefixWorkload(SHARED), 30));
  assert.notDeepEqual(take(sharedPrefixWorkload(SHARED), 30, 7), take(sharedPrefixWorkload(SHARED), 30, 8));
  const texts = (seed: number): string => messages(take(sharedPrefixWorkload({ ...SHARED, seed }), 1)[0] as BenchRequest)[0]?.content ?? '';
  assert.notEqual(texts(1), texts(2), 'the prompt texts follow the workload seed');
});

test('shared-prefix: a group shares its exact system prompt, groups differ, lengths match the estimate', () => {
  const requests = take(sharedPrefixWorkload(SHARED), 200);
  const byGroup = new Map<string, Set<string>>();
  const pairs = new Set<string>();
  for (const r of requests) {
    assert.equal(r.path, '/v1/chat/completions');
    const [system, user] = messages(r);
    assert.equal(system?.role, 'system');
    assert.equal(estimateTokens(system?.content ?? ''), SHARED.systemPromptTokens);
    assert.equal(estimateTokens(user?.content ?? ''), SHARED.questionTokens);
    const group = r.tags?.group ?? '';
    assert.equal(r.model, SHARED.models[Number(group) % 2], 'a group always goes to the same model');
    assert.equal(r.body.model, r.model);
    assert.equal(r.body.max_tokens, SHARED.maxTokens);
    byGroup.set(group, (byGroup.get(group) ?? new Set()).add(system?.content ?? ''));
    pairs.add(`${group}/${r.tags?.user}:${user?.content}`);
  }
  assert.equal(byGroup.size, SHARED.groups, 'every group was drawn');
  for (const prompts of byGroup.values()) assert.equal(prompts.size, 1, 'one system prompt per group');
  const prompts = [...byGroup.values()].map((s) => [...s][0] ?? '');
  assert.equal(new Set(prompts.map((p) => p.slice(0, 64))).size, SHARED.groups, 'groups differ from their first block');
  assert.equal(pairs.size, SHARED.groups * SHARED.users, 'each user asks one fixed question');
});

test('shared-prefix: charsPerToken sizes the texts so a simulator of that ratio counts the same tokens', () => {
  const [request] = take(sharedPrefixWorkload({ ...SHARED, charsPerToken: 3 }), 1);
  const [system, user] = messages(request as BenchRequest);
  assert.equal(system?.content.length, 3 * SHARED.systemPromptTokens);
  assert.equal(user?.content.length, 3 * SHARED.questionTokens);
});

test('shared-prefix: groupZipf 1 draws group g about 1 / (g + 1) as often; 0 and absent are uniform; negative refused', () => {
  const counts = (over: Partial<typeof SHARED> & { groupZipf?: number }): number[] => {
    const c = new Array<number>(SHARED.groups).fill(0);
    for (const r of take(sharedPrefixWorkload({ ...SHARED, ...over }), 4000)) c[Number(r.tags?.group)]! += 1;
    return c;
  };
  // Weights 1, 1/2, 1/3, 1/4 of 25/12: 48%, 24%, 16%, 12% of 4,000 draws, within sampling noise.
  const skewed = counts({ groupZipf: 1 });
  [1920, 960, 640, 480].forEach((want, g) => assert.ok(Math.abs(skewed[g]! - want) < 120, `group ${g}: ${skewed[g]} of 4000, about ${want}`));
  for (const c of [...counts({}), ...counts({ groupZipf: 0 })]) assert.ok(Math.abs(c - 1000) < 120, `uniform: ${c} of 4000`);
  assert.throws(() => sharedPrefixWorkload({ ...SHARED, groupZipf: -1 }), /groupZipf must be a number from 0/);
});

test('shared-prefix: completions keep the system prompt as the prompt prefix', () => {
  const requests = take(sharedPrefixWorkload({ ...SHARED, api: 'completions' }), 20);
  const system = take(sharedPrefixWorkload(SHARED), 1)[0];
  for (const r of requests) assert.equal(r.path, '/v1/completions');
  const first = requests.find((r) => r.tags?.group === system?.tags?.group);
  assert.ok(first === undefined || String(first.body.prompt).startsWith(messages(system as BenchRequest)[0]?.content ?? '?'));
});

test('multi-model: round-robin cycles over every model, uniform reaches all, mixed speaks both APIs', () => {
  const models = ['base-a', 'lora-a1', 'base-b', 'lora-b1'];
  const rr = take(multiModelWorkload({ models, promptTokens: 50, maxTokens: 4 }), 12);
  assert.deepEqual(rr.map((r) => r.model), [...models, ...models, ...models]);
  assert.deepEqual(new Set(rr.map((r) => r.path)), new Set(['/v1/chat/completions', '/v1/completions']));
  for (const r of rr) {
    const text = r.path === '/v1/completions' ? String(r.body.prompt) : (messages(r)[0]?.content ?? '');
    assert.equal(estimateTokens(text), 50);
  }
  const uniform = take(multiModelWorkload({ models, promptTokens: 10, maxTokens: 4, pick: 'uniform', api: 'chat' }), 100);
  assert.deepEqual(new Set(uniform.map((r) => r.model)), new Set(models));
  assert.ok(uniform.every((r) => r.path === '/v1/chat/completions'));
});

test('random: lengths follow the clipped distributions; deterministic per seed', () => {
  const o = { models: ['m'], promptTokens: { mean: 100, sd: 30, min: 20, max: 150 }, outputTokens: { mean: 16, sd: 8, min: 1, max: 32 } };
  const requests = take(randomWorkload(o), 300);
  assert.deepEqual(requests, take(randomWorkload(o), 300));
  const prompt = requests.map((r) => estimateTokens(messages(r)[0]?.content ?? ''));
  const output = requests.map((r) => r.body.max_tokens as number);
  assert.ok(prompt.every((n) => n >= 20 && n <= 150) && output.every((n) => Number.isInteger(n) && n >= 1 && n <= 32));
  const mean = prompt.reduce((a, b) => a + b, 0) / prompt.length;
  assert.ok(mean > 85 && mean < 115, `mean prompt ${mean}`);
  assert.ok(new Set(prompt).size > 20, 'lengths vary');
});

test('workload options are validated', () => {
  assert.throws(() => sharedPrefixWorkload({ ...SHARED, groups: 0 }), /groups must be an integer of at least 1/);
  assert.throws(() => multiModelWorkload({ models: [], promptTokens: 1, maxTokens: 1 }), /models must be a non-empty list/);
  const bad = { mean: 10, sd: 1, min: 5, max: 2 };
  assert.throws(() => randomWorkload({ models: ['m'], promptTokens: bad, outputTokens: bad }), /promptTokens must have/);
});

test('jsonl: replays lines in order, cycling; the path follows prompt/messages; errors name the line', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-jsonl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'trace.jsonl');
  const lines = [
    { model: 'a', prompt: 'hello', max_tokens: 3, tags: { user: 7 } },
    { model: 'b', messages: [{ role: 'user', content: 'hi' }] },
    { path: '/v1/completions', model: 'c', prompt: 'x', stream: true },
  ];
  await writeFile(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n\n`);
  const w = await jsonlWorkload(file);
  const got = take(w, 5);
  assert.deepEqual(got.map((r) => r.model), ['a', 'b', 'c', 'a', 'b']);
  assert.deepEqual(got.map((r) => r.path), ['/v1/completions', '/v1/chat/completions', '/v1/completions', '/v1/completions', '/v1/chat/completions']);
  assert.deepEqual(got[0]?.body, { model: 'a', prompt: 'hello', max_tokens: 3 });
  assert.deepEqual(got[0]?.tags, { user: '7' });
  (got[0] as BenchRequest).body.prompt = 'edited';
  assert.equal(w.next(3, Math.random).body.prompt, 'hello', 'replayed lines are copies');

  const cases: [string, RegExp][] = [
    ['{"model":"a","prompt":"x"}\nnot json', /trace-bad\.jsonl:2: not JSON/],
    ['{"prompt":"x"}', /:1: "model" must be a non-empty string/],
    ['{"model":"a"}', /:1: give exactly one of "prompt" or "messages"/],
    ['{"model":"a","prompt":"x","path":"/v1/embeddings"}', /"path" must be/],
    ['\n  \n', /no requests/],
  ];
  for (const [text, error] of cases) {
    const bad = join(dir, 'trace-bad.jsonl');
    await writeFile(bad, text);
    await assert.rejects(jsonlWorkload(bad), error);
  }
  // What cannot be read is named by the flag that gave it.
  await assert.rejects(jsonlWorkload(join(dir, 'missing.jsonl')), /^Error: --file .*missing\.jsonl: no such file$/);
  await assert.rejects(jsonlWorkload(dir), /--file .*: is a folder, not a file/);
});

test('jsonl: a file saved with a UTF-8 byte order mark and CRLF line ends (Windows tools) replays as written', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bench-jsonl-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const file = join(dir, 'trace.jsonl');
  await writeFile(file, '\uFEFF{"model":"a","prompt":"hello"}\r\n{"model":"b","prompt":"hi"}\r\n');
  const w = await jsonlWorkload(file);
  assert.deepEqual(take(w, 2).map((r) => r.body), [{ model: 'a', prompt: 'hello' }, { model: 'b', prompt: 'hi' }]);
});
