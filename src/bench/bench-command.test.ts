/** `infergate bench` flags: a valid plan, or an error naming the flag. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { BenchFlags } from '../cli/bench-plan.js';
import { benchPlanFromFlags, buildWorkload, DEFAULT_CONCURRENCY } from '../cli/bench-plan.js';

/** The defaults commander fills in. */
function flags(over: Partial<BenchFlags> = {}): BenchFlags {
  return { url: 'http://127.0.0.1:8080/', workload: 'shared-prefix', requests: '200', duration: '60', grace: '60', retries: '0', stream: true, seed: '1', ...over };
}

test('bench flags: defaults give a closed loop; --rate a sweep; knobs and numbers parsed', () => {
  const plan = benchPlanFromFlags(flags());
  assert.equal(plan.url, 'http://127.0.0.1:8080');
  // An OpenAI client's base URL names the same server.
  assert.equal(benchPlanFromFlags(flags({ url: 'http://127.0.0.1:8080/v1/' })).url, 'http://127.0.0.1:8080');
  assert.equal(benchPlanFromFlags(flags({ url: 'https://gw.example/team-a/v1' })).url, 'https://gw.example/team-a');
  assert.deepEqual(plan.loads, [{ kind: 'closed', concurrency: DEFAULT_CONCURRENCY }]);
  assert.equal(plan.maxRequests, 200);
  assert.equal(plan.models, undefined, 'models come from GET /v1/models');
  const sweep = benchPlanFromFlags(flags({ rate: '2, 4,8.5', models: 'a,b', groups: '3', retries: '2', stream: false }));
  assert.deepEqual(sweep.loads, [{ kind: 'open', rate: 2 }, { kind: 'open', rate: 4 }, { kind: 'open', rate: 8.5 }]);
  assert.deepEqual(sweep.models, ['a', 'b']);
  assert.equal(sweep.workload.groups, 3);
  assert.equal(sweep.retries, 2);
  assert.equal(sweep.stream, false);
});

test('bench flags: bad values are rejected with a message naming the flag', () => {
  const cases: [Partial<BenchFlags>, RegExp][] = [
    [{ url: 'localhost:8080' }, /--url must use http or https/],
    [{ url: 'not a url' }, /--url must be an absolute http\(s\) URL/],
    [{ url: 'http://127.0.0.1:8080/v1/chat/completions' }, /--url is the server's base URL, not an endpoint: .*; give "http:\/\/127\.0\.0\.1:8080", got/],
    [{ url: 'https://gw.example/team-a/v1/completions/' }, /give "https:\/\/gw\.example\/team-a"/],
    [{ url: 'http://127.0.0.1:8080/v1/models' }, /not an endpoint/],
    [{ workload: 'nope' }, /--workload must be one of shared-prefix, multi-model, random, jsonl, got "nope"/],
    [{ rate: '2,x' }, /--rate must be a number from 0.001 to 100000, got "x"/],
    [{ rate: '0' }, /--rate must be a number/],
    [{ rate: ',' }, /--rate needs at least one rate/],
    [{ rate: '2', concurrency: '4' }, /not both/],
    [{ concurrency: '1.5' }, /--concurrency must be an integer from 1/],
    [{ requests: '0' }, /--requests must be an integer from 1/],
    [{ requests: '' }, /--requests must be an integer/],
    [{ duration: '-1' }, /--duration must be seconds \(90, 0\.5\) or a duration \(5m, 1m30s\), from 1ms to 168h, got "-1"/],
    [{ retries: 'many' }, /--retries must be an integer from 0 to 100, got "many"/],
    [{ seed: '1e20' }, /--seed must be an integer/],
    [{ groups: '0' }, /--groups must be an integer from 1/],
    [{ workload: 'multi-model', groups: '3' }, /--groups does not apply to --workload multi-model/],
    [{ workload: 'jsonl' }, /--workload jsonl needs --file/],
    [{ workload: 'jsonl', file: 'x.jsonl', models: 'a' }, /--models does not apply to --workload jsonl/],
    [{ file: 'x.jsonl' }, /--file is for --workload jsonl only/],
    [{ api: 'grpc' }, /--api must be one of chat, completions, mixed/],
    [{ models: ' , ' }, /--models needs at least one model name/],
  ];
  for (const [over, error] of cases) assert.throws(() => benchPlanFromFlags(flags(over)), error, JSON.stringify(over));
});

test('bench flags: each workload kind builds', async () => {
  for (const workload of ['shared-prefix', 'multi-model', 'random']) {
    const plan = benchPlanFromFlags(flags({ workload, maxTokens: '4', ...(workload === 'shared-prefix' ? { systemPromptTokens: '20' } : { promptTokens: '20' }) }));
    const w = await buildWorkload(plan.workload, ['m1', 'm2'], plan.seed);
    assert.equal(w.name, workload);
    const r = w.next(0, () => 0.5);
    assert.ok(r.body.max_tokens !== undefined && ['m1', 'm2'].includes(r.model));
  }
});
