/**
 * With `--api-keys`, a request no HTTPRoute rule matches (`GET /`, a path the routes leave out) gets the 404
 * route_not_found without the closest rules: their header matches name every route's model, the other tenants'
 * among them. Simulated pods on 127.0.86.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { LLAMA, QWEN, startTenantGateway } from '../helpers/tenancy.js';

test("a path no route matches: a key's 404 names no other tenant's model", async () => {
  const env = await startTenantGateway(86, [{ key: 'ig-llama', name: 'team-llama', models: [LLAMA] }]);
  try {
    const ask = async (headers: Record<string, string>) => {
      const r = await request(`${env.gw.url}/`, { headers });
      return { status: r.statusCode, body: (await r.body.json()) as { error: { message: string; code: string } } };
    };
    const keyed = await ask({ authorization: 'Bearer ig-llama' });
    assert.equal(keyed.status, 404);
    assert.equal(keyed.body.error.code, 'route_not_found');
    assert.match(keyed.body.error.message, /^no HTTPRoute rule matches GET \//);
    assert.ok(!keyed.body.error.message.includes(QWEN), keyed.body.error.message);
    assert.ok(!keyed.body.error.message.includes('Closest rules'), keyed.body.error.message);
  } finally {
    await env.close();
  }
});
