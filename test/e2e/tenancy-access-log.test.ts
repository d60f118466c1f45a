/**
 * With --api-keys, the access log names the tenant of every request its key was known for (served, 403, 429), so an
 * operator sharing the gateway can tell whose request each line is; a request without a valid key has none.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AccessLogLine } from '../../src/observability/access-log.js';
import { LLAMA, QWEN, startTenantGateway } from '../helpers/tenancy.js';

const chat = (model: string) => ({ model, messages: [{ role: 'user' as const, content: 'hi' }], max_tokens: 2 });

test('--access-log with --api-keys: each line names the tenant of its key, refusals included', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-access-'));
  const file = join(dir, 'access.jsonl');
  const env = await startTenantGateway(
    81,
    [
      { key: 'ig-a', name: 'team-a', models: [LLAMA], extra: { requestsPerMinute: 1 } },
      { key: 'ig-b', name: 'team-b', models: [QWEN] },
    ],
    { accessLog: { file } },
  );
  try {
    const a = env.client('ig-a');
    await a.chat.completions.create(chat(LLAMA), { headers: { 'x-request-id': 'a-served' } });
    await assert.rejects(a.chat.completions.create(chat(LLAMA), { headers: { 'x-request-id': 'a-429' } }), { status: 429 });
    await assert.rejects(a.chat.completions.create(chat(QWEN), { headers: { 'x-request-id': 'a-403' } }), { status: 403 });
    // Refused before admission: a model nothing serves (the key's 403 in place of the plan's 404).
    await assert.rejects(a.chat.completions.create(chat('nothing-serves-this'), { headers: { 'x-request-id': 'a-unserved' } }), { status: 403 });
    await env.client('ig-b').chat.completions.create(chat(QWEN), { headers: { 'x-request-id': 'b-served' } });
    await assert.rejects(env.client('ig-nope').chat.completions.create(chat(QWEN), { headers: { 'x-request-id': 'no-key' } }), { status: 401 });
  } finally {
    await env.close();
  }
  try {
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes('ig-a') && !text.includes('ig-b'), 'no key in the log');
    const tenantOf = new Map(text.trim().split('\n').map((l) => JSON.parse(l) as AccessLogLine).map((l) => [l.request_id, l.tenant]));
    assert.deepEqual(Object.fromEntries(tenantOf), { 'a-served': 'team-a', 'a-429': 'team-a', 'a-403': 'team-a', 'a-unserved': 'team-a', 'b-served': 'team-b', 'no-key': null });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
