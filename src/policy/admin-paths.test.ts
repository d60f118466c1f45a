import assert from 'node:assert/strict';
import { test } from 'node:test';
import { GatewayError } from '../errors.js';
import { AdminPathPolicy, notAdminPaths, VLLM_ADMIN_PATHS } from './admin-paths.js';

test('every vLLM admin path is refused by default, at the root and under /v1, and so is what lies beneath it', () => {
  const policy = new AdminPathPolicy();
  for (const p of VLLM_ADMIN_PATHS) {
    const root = p.replace(/^\/v1\//, '/');
    assert.equal(policy.blocked(root), root, root);
    assert.equal(policy.blocked(`/v1${root}`), `/v1${root}`, `/v1${root}`);
  }
  assert.equal(policy.blocked('/pause/step'), '/pause');
  assert.equal(policy.blocked('/reset_prefix_cache?reset_running_requests=true'.split('?')[0]!), '/reset_prefix_cache');
});

test("vLLM's fault-tolerance control (POST /fault_tolerance/apply pauses or retries the engine) is refused; its status too", () => {
  const policy = new AdminPathPolicy();
  assert.equal(policy.blocked('/fault_tolerance/apply'), '/fault_tolerance/apply');
  assert.equal(policy.blocked('/v1/fault_tolerance/apply'), '/v1/fault_tolerance/apply');
  assert.equal(policy.blocked('/fault_tolerance/status'), '/fault_tolerance/status');
  assert.equal(policy.blocked('/fault_tolerance/%61pply'), '/fault_tolerance/apply');
  assert.equal(new AdminPathPolicy(['/fault_tolerance/status']).blocked('/fault_tolerance/status'), undefined);
});

test('encoded, dotted and doubled spellings of an admin path are refused', () => {
  const policy = new AdminPathPolicy();
  const cases: [string, string][] = [
    ['/v1/../sleep', '/sleep'],
    ['//v1/load_lora_adapter', '/v1/load_lora_adapter'],
    ['/v1/%2e%2e/collective_rpc', '/collective_rpc'],
    ['/v1/%2E%2E%2Fwake_up', '/wake_up'],
    ['/V1/UNLOAD_LORA_ADAPTER/', '/v1/unload_lora_adapter'],
    ['/v1/chat/../../start_profile', '/start_profile'],
  ];
  for (const [raw, hit] of cases) assert.equal(policy.blocked(raw), hit, raw);
});

test('inference paths are not refused', () => {
  const policy = new AdminPathPolicy();
  for (const p of ['/v1/chat/completions', '/v1/completions', '/v1/models', '/v1/embeddings', '/v1/responses', '/tokenize', '/detokenize', '/v1/audio/transcriptions', '/score', '/rerank', '/v1/sleeper', '/pauses', '/health', '/metrics']) {
    assert.equal(policy.blocked(p), undefined, p);
  }
});

test('--allow-admin-paths lets the named paths through in both forms, and * lets all through', () => {
  const some = new AdminPathPolicy(['/sleep', '/v1/load_lora_adapter']);
  assert.equal(some.blocked('/sleep'), undefined);
  assert.equal(some.blocked('/v1/sleep'), '/v1/sleep');
  assert.equal(some.blocked('/v1/load_lora_adapter'), undefined);
  assert.equal(some.blocked('/load_lora_adapter'), '/load_lora_adapter');
  assert.equal(some.blocked('/wake_up'), '/wake_up');
  const all = new AdminPathPolicy(['*']);
  for (const p of VLLM_ADMIN_PATHS) assert.equal(all.blocked(p), undefined);
});

test('check() throws 403 admin_path_blocked naming the path, how it was asked for, and the flag', () => {
  const policy = new AdminPathPolicy();
  assert.throws(
    () => policy.check('/v1/%2e%2e/sleep'),
    (e: unknown) => e instanceof GatewayError && e.status === 403 && e.code === 'admin_path_blocked' && e.message.includes('/sleep is a model server admin endpoint') && e.message.includes('"/v1/%2e%2e/sleep"') && e.message.includes('--allow-admin-paths /sleep'),
  );
  assert.doesNotThrow(() => policy.check('/v1/chat/completions'));
});

test('a path judged before is judged the same from the memo, also after many other paths emptied it', () => {
  const policy = new AdminPathPolicy();
  for (let round = 0; round < 2; round++) {
    assert.equal(policy.blocked('/v1/chat/completions'), undefined);
    assert.equal(policy.blocked('/SLEEP'), '/sleep');
    assert.equal(policy.blocked('/v1/%2e%2e/sleep'), '/sleep');
  }
  for (let i = 0; i < 3000; i++) assert.equal(policy.blocked(`/v1/other/${i}`), undefined);
  assert.equal(policy.blocked('/SLEEP'), '/sleep');
  assert.equal(policy.blocked('/v1/chat/completions'), undefined);
});

test('notAdminPaths: what --allow-admin-paths names that is no admin path (allowing it would change nothing)', () => {
  assert.deepEqual(notAdminPaths(['*', '/sleep', '/v1/sleep', 'sleep', '/v1/load_lora_adapter', '/load_lora_adapter', '/Wake_Up/', ...VLLM_ADMIN_PATHS]), []);
  assert.deepEqual(notAdminPaths(['/v1/load_lora_adaptor', '/v1/chat/completions', '/pause/step', '/sleep']), ['/v1/load_lora_adaptor', '/v1/chat/completions', '/pause/step']);
});
