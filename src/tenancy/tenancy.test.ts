import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GatewayError } from '../errors.js';
import { createLogger } from '../logger.js';
import { newRequestRecord } from '../observability/request-record.js';
import { hashApiKey } from './api-key.js';
import type { KeyEntry } from './key-entry.js';
import { parseKeyFile } from './key-file.js';
import { KeySet } from './key-set.js';
import type { KeySource } from './key-source.js';
import type { LimitStore } from './limit-store.js';
import { MemoryLimitStore } from './memory-store.js';
import { LimitRefusal, Tenancy, unsentHeaders, type Admission } from './tenancy.js';

const KEYS = `keys:
  - name: team-a
    keyHash: ${hashApiKey('key-a')}
    models: ["llama*"]
    requestsPerMinute: 2
    tokensPerMinute: 100
    objective: batch
  - name: team-b
    keyHash: ${hashApiKey('key-b')}
    models: ["*"]
    tokensPerDay: 50
    priority: 5
    allowPriorityHeader: true
    allowAdminPaths: true
`;
const source = (): KeySource => ({ keys: new KeySet(parseKeyFile(KEYS, 'k')), problem: undefined, close: () => undefined });
const NOW = Date.UTC(2026, 0, 1, 10, 0, 30);
const tenancy = (store: LimitStore = new MemoryLimitStore(), failure: 'fail-open' | 'fail-closed' = 'fail-open'): Tenancy => new Tenancy({ keys: source(), store, failure, log: createLogger('silent'), now: () => NOW });

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return e instanceof GatewayError ? e.code : 'not a GatewayError';
  }
  return undefined;
}

test('authenticate: Bearer, api-key or x-api-key; a missing or unknown key is 401 invalid_api_key', () => {
  const t = tenancy();
  assert.equal(t.authenticate({ authorization: 'Bearer key-a' }).tenant.name, 'team-a');
  assert.equal(t.authenticate({ 'api-key': 'key-b' }).tenant.name, 'team-b');
  assert.equal(t.authenticate({ 'x-api-key': 'key-b' }).tenant.name, 'team-b');
  assert.equal(code(() => t.authenticate({})), 'invalid_api_key');
  assert.equal(code(() => t.authenticate({ authorization: 'Bearer nope' })), 'invalid_api_key');
});

test('admin paths: 403 admin_path_blocked unless the key has allowAdminPaths', () => {
  const t = tenancy();
  const a = t.authenticate({ authorization: 'Bearer key-a' });
  assert.equal(code(() => t.checkAdminPath(a, '/sleep')), 'admin_path_blocked');
  assert.throws(() => t.checkAdminPath(a, '/sleep'), /tenant team-a may not call model server admin endpoints \(\/sleep\)/);
  t.checkAdminPath(t.authenticate({ authorization: 'Bearer key-b' }), '/sleep');
});

test('models: 403 lists what the key may use; /v1/models is filtered', () => {
  const t = tenancy();
  const a = t.authenticate({ authorization: 'Bearer key-a' });
  assert.throws(() => t.checkModel(a, 'qwen'), (e: GatewayError) => e.code === 'model_not_allowed' && e.status === 403 && e.message.includes('llama*'));
  t.checkModel(a, 'llama-3');
  assert.deepEqual(t.visibleModels(a, [{ id: 'llama-3' }, { id: 'qwen' }]).map((c) => c.id), ['llama-3']);
});

test('the objective comes from the key unless the key allows the header', () => {
  const t = tenancy();
  const a = t.authenticate({ authorization: 'Bearer key-a' });
  const h = new Map([['x-llm-d-inference-objective', 'critical'], ['x-gateway-inference-objective', 'critical']]);
  t.applyObjective(a, h);
  assert.deepEqual([...h], [['x-llm-d-inference-objective', 'batch']]);
  const b = t.authenticate({ authorization: 'Bearer key-b' });
  const h2 = new Map([['x-llm-d-inference-objective', 'critical']]);
  t.applyObjective(b, h2);
  assert.deepEqual([...h2], [['x-llm-d-inference-objective', 'critical']]);
});

test('limits: 429 with retry-after and x-ratelimit headers; usage corrects the estimate', () => {
  const t = tenancy();
  const a = t.authenticate({ authorization: 'Bearer key-a' });
  const first = t.admit(a, 200) as Admission; // 50 tokens estimated
  assert.deepEqual(first.headers.slice(0, 6), ['x-ratelimit-limit-requests', '2', 'x-ratelimit-remaining-requests', '1', 'x-ratelimit-reset-requests', '30s']);
  // The response used 10 tokens: 40 of the estimate are given back.
  const r = newRequestRecord('r1', 'POST', '/v1/chat/completions', undefined);
  r.tenantAdmission = first;
  r.status = 200;
  r.usage = { promptTokens: 6, completionTokens: 4 };
  t.ended(r);
  const second = t.admit(a, 200) as Admission;
  assert.ok(second.headers.includes('40'), `remaining tokens 100 - 10 - 50 = 40: ${second.headers.join(' ')}`);
  assert.throws(
    () => t.admit(a, 4),
    (e: LimitRefusal) => e instanceof LimitRefusal && e.code === 'rate_limit_exceeded' && e.status === 429 && e.retryHeaders()?.['retry-after'] === '30' && e.headers['x-ratelimit-remaining-requests'] === '0' && /requests per min/.test(e.message),
  );
  const b = t.authenticate({ authorization: 'Bearer key-b' });
  assert.throws(() => t.admit(b, 400), (e: LimitRefusal) => e.code === 'insufficient_quota' && /daily token quota/.test(e.message));
});

test("a 429's type is OpenAI's: the limit that refused it (requests or tokens), insufficient_quota for the day's", () => {
  const t = tenancy();
  const refused = (fn: () => unknown): { type: string; code: unknown } => {
    try {
      fn();
    } catch (e) {
      const { type, code } = (e as GatewayError).toBody().error;
      return { type, code };
    }
    throw new Error('admitted');
  };
  const a = t.authenticate({ authorization: 'Bearer key-a' });
  // 101 tokens: larger than team-a's whole 100 tokens per minute.
  assert.deepEqual(refused(() => t.admit(a, 404)), { type: 'tokens', code: 'rate_limit_exceeded' });
  t.admit(a, 200); // 50 tokens of 100
  assert.deepEqual(refused(() => t.admit(a, 300)), { type: 'tokens', code: 'rate_limit_exceeded' });
  t.admit(a, 4); // the second request of 2
  assert.deepEqual(refused(() => t.admit(a, 4)), { type: 'requests', code: 'rate_limit_exceeded' });
  const b = t.authenticate({ authorization: 'Bearer key-b' });
  assert.deepEqual(refused(() => t.admit(b, 400)), { type: 'insufficient_quota', code: 'insufficient_quota' });
});

test('a request larger than a whole window is refused without retry advice: no retry can pass', () => {
  const t = tenancy();
  const a = t.authenticate({ authorization: 'Bearer key-a' });
  // 404 bytes: 101 tokens estimated, over team-a's 100 tokens per minute even with nothing used.
  assert.throws(
    () => t.admit(a, 404),
    (e: LimitRefusal) =>
      e.code === 'rate_limit_exceeded' &&
      e.status === 429 &&
      e.retryHeaders()?.['x-should-retry'] === 'false' &&
      e.retryHeaders()?.['retry-after'] === undefined &&
      !/try again/.test(e.message) &&
      /shorter prompt/.test(e.message) &&
      e.headers['x-ratelimit-limit-tokens'] === '100',
  );
  // One that fits the limit but not what is left of it is told when to retry.
  t.admit(a, 200); // 50 tokens counted, 50 left
  assert.throws(() => t.admit(a, 300), (e: LimitRefusal) => e.retryHeaders()?.['retry-after'] === '30' && /try again in 30s/.test(e.message));
  // Over the whole daily quota (team-b: 50 tokens a day): not worth retrying tomorrow either.
  const b = t.authenticate({ authorization: 'Bearer key-b' });
  assert.throws(() => t.admit(b, 400), (e: LimitRefusal) => e.code === 'insufficient_quota' && e.retryHeaders()?.['x-should-retry'] === 'false' && /tokensPerDay/.test(e.message));
});

test('a stream cut before its usage chunk is charged a token per token event on top of its estimate', () => {
  const t = tenancy();
  const a = t.authenticate({ authorization: 'Bearer key-a' });
  const admitted = t.admit(a, 40) as Admission; // 10 tokens estimated
  const r = newRequestRecord('r1', 'POST', '/v1/chat/completions', undefined);
  r.tenantAdmission = admitted;
  r.status = 200;
  r.stream = true;
  r.tokenEvents = 30;
  r.clientGone = true;
  t.ended(r);
  const next = t.admit(a, 4) as Admission;
  assert.ok(next.headers.includes('59'), `remaining tokens 100 - 10 - 30 - 1 = 59: ${next.headers.join(' ')}`);
});

test('a request that never reached a pod gives back its request and its estimate; one that did keeps the request', () => {
  const cases = [
    { name: 'refused by flow control', attempts: 0, status: 429, remaining: '2' },
    { name: 'client left while queued', attempts: 0, status: undefined, remaining: '2' },
    { name: 'sent to a pod that failed', attempts: 1, status: 502, remaining: '1' },
    { name: 'served', attempts: 1, status: 200, remaining: '1' },
  ];
  for (const c of cases) {
    const t = tenancy();
    const a = t.authenticate({ authorization: 'Bearer key-a' });
    const r = newRequestRecord('r1', 'POST', '/v1/chat/completions', undefined);
    const admission = t.admit(a, 40) as Admission;
    r.tenantAdmission = admission;
    r.attempts = c.attempts;
    if (c.status !== undefined) r.status = c.status;
    t.ended(r);
    // The next request sees what the first left: team-a has 2 requests a minute.
    const next = t.admit(a, 4) as Admission;
    const remaining = next.headers[next.headers.indexOf('x-ratelimit-remaining-requests') + 1];
    assert.equal(remaining, String(Number(c.remaining) - 1), c.name);
    // What the first's answer said, when the gateway refused it before any pod (unsentHeaders), is what it left.
    if (c.attempts === 0) {
      const said = unsentHeaders(admission);
      assert.equal(said[said.indexOf('x-ratelimit-remaining-requests') + 1], c.remaining, c.name);
      assert.equal(said[said.indexOf('x-ratelimit-remaining-tokens') + 1], '100', `${c.name}: team-a's 100 tokens a minute, its estimate given back`);
    }
  }
});

test('a store that cannot answer: fail-open admits uncounted, fail-closed refuses with 503', async () => {
  const broken: LimitStore = { take: () => Promise.reject(new Error('connection refused')), adjust: () => undefined, giveBackRequest: () => undefined, close: async () => undefined };
  const open = tenancy(broken, 'fail-open');
  const a = open.authenticate({ authorization: 'Bearer key-a' });
  assert.deepEqual((await open.admit(a, 10)).headers, []);
  const closed = tenancy(broken, 'fail-closed');
  await assert.rejects(async () => closed.admit(a, 10), (e: GatewayError) => e.code === 'rate_limit_store_unavailable' && e.status === 503);
});

test('metrics name tenants, never keys or hashes', async () => {
  const t = tenancy();
  const a: KeyEntry = t.authenticate({ authorization: 'Bearer key-a' });
  t.admit(a, 4);
  code(() => t.authenticate({ authorization: 'Bearer key-zzz' }));
  let text = '';
  for (const f of [t.metrics.requests, t.metrics.rejections]) text += JSON.stringify(await f.get());
  assert.ok(text.includes('team-a'));
  assert.ok(text.includes('invalid_api_key'));
  for (const secret of ['key-a', 'key-zzz', hashApiKey('key-a').slice(7, 20)]) assert.ok(!text.includes(secret), secret);
});

test("a store outage is logged once when it starts and once when it ends, whether the store's client or a request notices first", async () => {
  const lines: string[] = [];
  let down = true;
  const memory = new MemoryLimitStore();
  const store: LimitStore = {
    take: (...args: Parameters<LimitStore['take']>) => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : memory.take(...args)),
    adjust: () => undefined,
    giveBackRequest: () => undefined,
    close: async () => undefined,
  };
  const t = new Tenancy({ keys: source(), store, failure: 'fail-open', log: createLogger('info', (l) => lines.push(l)), now: () => NOW });
  const a = t.authenticate({ authorization: 'Bearer key-b' });
  t.storeState(false, 'connect ECONNREFUSED 127.0.0.1:6379');
  await t.admit(a, 1);
  await t.admit(a, 1);
  t.storeState(false, 'again');
  down = false;
  t.storeState(true);
  await t.admit(a, 1);
  t.storeState(true);
  const told = lines.map((l) => l.replace(/^\S+ /, ''));
  assert.equal(told.filter((l) => l.startsWith('WARN  rate-limit store unreachable')).length, 1, told.join('\n'));
  assert.match(told.find((l) => l.startsWith('WARN'))!, /error="connect ECONNREFUSED 127.0.0.1:6379"/, 'the first to notice names the error');
  assert.equal(told.filter((l) => l.startsWith('INFO  rate-limit store reachable again')).length, 1, told.join('\n'));
  // A request notices first this time: still one line each way.
  down = true;
  await t.admit(a, 1);
  t.storeState(false, 'late');
  down = false;
  await t.admit(a, 1);
  t.storeState(true);
  assert.equal(lines.length, 4, lines.join('\n'));
});
