import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../logger.js';
import { newRequestRecord } from '../observability/request-record.js';
import type { RoutePlan } from './plan-request.js';
import { hashApiKey } from '../tenancy/api-key.js';
import { parseKeyFile } from '../tenancy/key-file.js';
import { KeySet } from '../tenancy/key-set.js';
import { MemoryLimitStore } from '../tenancy/memory-store.js';
import { admitRequest, tenantHeaders } from './tenancy-stage.js';
import { Tenancy, type Admission } from '../tenancy/tenancy.js';

const yaml = `keys:\n  - name: team-a\n    keyHash: ${hashApiKey('k')}\n    models: ["m*"]\n    priority: 7\n`;
const tenancy = new Tenancy({ keys: { keys: new KeySet(parseKeyFile(yaml, 'k')), problem: undefined, close: () => undefined }, store: new MemoryLimitStore(), log: createLogger('silent') });

test("the client's credential is neither forwarded nor kept in the headers planning and plugins read", () => {
  const entry = tenancy.authenticate({ authorization: 'Bearer k' });
  const lower = new Map([['authorization', 'Bearer k'], ['api-key', 'k'], ['x-api-key', 'k'], ['content-type', 'application/json']]);
  const upstream: Record<string, string | string[]> = { authorization: 'Bearer k', 'api-key': 'k', 'x-api-key': 'k', 'content-type': 'application/json' };
  tenantHeaders(tenancy, entry, lower, upstream);
  assert.deepEqual([...lower.keys()], ['content-type', 'x-llm-d-inference-fairness-id']);
  assert.deepEqual(Object.keys(upstream), ['content-type', 'x-llm-d-inference-fairness-id']);
});

test("the key's objective and the tenant as fairness ID replace the client's, for planning and upstream alike", () => {
  const entry = tenancy.authenticate({ authorization: 'Bearer k' });
  const own = { 'x-llm-d-inference-objective': 'critical', 'x-gateway-inference-objective': 'critical', 'x-llm-d-inference-fairness-id': 'team-b', 'x-gateway-inference-fairness-id': 'team-b' };
  const lower = new Map(Object.entries(own));
  const upstream: Record<string, string | string[]> = { ...own };
  tenantHeaders(tenancy, entry, lower, upstream);
  // The key sets a priority and no objective: no objective header at all; the fairness ID is the tenant.
  assert.deepEqual(Object.fromEntries(lower), { 'x-llm-d-inference-fairness-id': 'team-a' });
  assert.deepEqual(upstream, { 'x-llm-d-inference-fairness-id': 'team-a' });
});

test('admission puts the tenant and its priority on the plan and the record', () => {
  const entry = tenancy.authenticate({ authorization: 'Bearer k' });
  const plan = { steps: [], tracing: false, priority: 0, routingHeaders: {}, model: 'model-1' } as RoutePlan;
  const record = newRequestRecord('r', 'POST', '/v1/completions', undefined);
  const a = admitRequest(tenancy, entry, plan, 40, record) as Admission;
  assert.deepEqual(plan.tenant, { name: 'team-a', priority: 7, objective: undefined });
  assert.equal(plan.priority, 7);
  assert.equal(record.tenant?.name, 'team-a');
  assert.equal(record.fairnessId, 'team-a');
  assert.equal(record.priority, 7);
  assert.equal(record.tenantAdmission, a);
  assert.equal(a.estimate, 10);
  assert.throws(() => admitRequest(tenancy, entry, { ...plan, model: 'other' }, 40, record), /may not use model `other`/);
});

test("a key's priority is the request's unless the key allows the client's objective header and the client sent one", () => {
  const keyYaml = `keys:\n  - name: team-p\n    keyHash: ${hashApiKey('p')}\n    models: ["*"]\n    priority: 5\n    allowPriorityHeader: true\n`;
  const t = new Tenancy({ keys: { keys: new KeySet(parseKeyFile(keyYaml, 'k')), problem: undefined, close: () => undefined }, store: new MemoryLimitStore(), log: createLogger('silent') });
  const p = t.authenticate({ authorization: 'Bearer p' });
  // What planning made of the client's header: InferenceObjective critical, priority 100 in the pool.
  const sent = new Map([['x-llm-d-inference-objective', 'critical']]);
  tenantHeaders(t, p, sent, {});
  const withHeader = { steps: [], tracing: false, priority: 100, routingHeaders: {}, model: 'm', headers: sent } as RoutePlan;
  admitRequest(t, p, withHeader, 10, undefined);
  assert.equal(withHeader.priority, 100, "the client's objective, which the pods and an external picker are sent too");
  const none = new Map<string, string>();
  tenantHeaders(t, p, none, {});
  const without = { steps: [], tracing: false, priority: 0, routingHeaders: {}, model: 'm', headers: none } as RoutePlan;
  admitRequest(t, p, without, 10, undefined);
  assert.equal(without.priority, 5, "no header: the key's priority");
  // A key that does not allow the header: its priority whatever the client sends (the header is dropped).
  const plain = tenancy.authenticate({ authorization: 'Bearer k' });
  const dropped = new Map([['x-llm-d-inference-objective', 'critical']]);
  tenantHeaders(tenancy, plain, dropped, {});
  const refused = { steps: [], tracing: false, priority: 0, routingHeaders: {}, model: 'model-1', headers: dropped } as RoutePlan;
  admitRequest(tenancy, plain, refused, 10, undefined);
  assert.equal(refused.priority, 7);
});

test("a key's objective that the pool does not define is logged once per tenant and pool", () => {
  const lines: string[] = [];
  const keyYaml = `keys:\n  - name: team-b\n    keyHash: ${hashApiKey('b')}\n    models: ["*"]\n    objective: batchh\n  - name: team-c\n    keyHash: ${hashApiKey('c')}\n    models: ["*"]\n    objective: batch\n    allowPriorityHeader: true\n`;
  const t = new Tenancy({ keys: { keys: new KeySet(parseKeyFile(keyYaml, 'k')), problem: undefined, close: () => undefined }, store: new MemoryLimitStore(), log: createLogger('info', (l) => lines.push(l)) });
  const b = t.authenticate({ authorization: 'Bearer b' });
  const plan = (pool: string, name: string): RoutePlan => ({ steps: [], tracing: false, priority: 0, routingHeaders: {}, model: 'm', unknownObjective: { name, pool } }) as RoutePlan;
  for (let i = 0; i < 3; i++) admitRequest(t, b, plan('default/pool-a', 'batchh'), 10, undefined);
  admitRequest(t, b, plan('default/pool-b', 'batchh'), 10, undefined);
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /tenant team-b names InferenceObjective "batchh", which pool default\/pool-a does not define: its requests there run at priority 0/);
  assert.match(lines[1]!, /pool default\/pool-b/);
  // A client's own header (the key allows it) naming an unknown objective is the client's, not the operator's.
  const c = t.authenticate({ authorization: 'Bearer c' });
  admitRequest(t, c, plan('default/pool-a', 'critical'), 10, undefined);
  assert.equal(lines.length, 2);
});
