import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RouteNotFound } from './route-not-found.js';

test("route_not_found names the closest rules for the operator, and none for a key's holder", () => {
  const e = new RouteNotFound('no HTTPRoute rule matches GET /', ['route default/qwen rule 0: header x-gateway-base-model-name is missing, wants "Qwen/Qwen3-8B"']);
  assert.equal(e.code, 'route_not_found');
  assert.match(e.message, /^no HTTPRoute rule matches GET \/\. Closest rules: route default\/qwen .*Qwen\/Qwen3-8B/);
  const t = e.forTenant();
  assert.equal(t.code, 'route_not_found');
  assert.equal(t.status, 404);
  assert.ok(!t.message.includes('Qwen') && !t.message.includes('default/qwen'), t.message);
  assert.match(t.message, /^no HTTPRoute rule matches GET \/ \(GET \/v1\/models lists the models your API key may use\)$/);
  assert.equal(new RouteNotFound('no HTTPRoute rule matches GET /x', []).message, 'no HTTPRoute rule matches GET /x');
});
