import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AdminServer } from './admin-server.js';
import { DecisionLog } from './decision-log.js';
import { createLogger } from './logger.js';
import { GatewayMetrics } from './metrics/gateway-metrics.js';

async function withAdmin(decisions: DecisionLog | undefined, body: (url: string, admin: AdminServer) => Promise<void>): Promise<void> {
  const metrics = new GatewayMetrics();
  const admin = new AdminServer({ host: '127.0.0.1', port: 0, metrics, ...(decisions ? { decisions } : {}), log: createLogger('silent') });
  await admin.listen();
  try {
    await body(admin.url, admin);
  } finally {
    await admin.close();
    metrics.close();
  }
}

test("GET /metrics: the registry text with its content type; the process's own series under the standard names, none of prom-client's per-handle gauges", () =>
  withAdmin(undefined, async (url) => {
    const res = await fetch(`${url}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8');
    const text = await res.text();
    assert.match(text, /^# TYPE llm_d_epp_request_total counter$/m);
    assert.match(text, /^llm_d_epp_info\{commit="[^"]*",build_ref="[^"]*"\} 1$/m);
    assert.match(text, /^process_cpu_seconds_total \d/m);
    assert.match(text, /^process_resident_memory_bytes \d/m);
    assert.doesNotMatch(text, /nodejs_active_/);
  }));

test('GET /debug/scheduling: 404 debug_disabled when off; the decision log, hashed ids and ?request_id= when on', async () => {
  await withAdmin(new DecisionLog(0), async (url) => {
    const res = await fetch(`${url}/debug/scheduling`);
    assert.equal(res.status, 404);
    const body = (await res.json()) as { error: { code: string; message: string } };
    assert.equal(body.error.code, 'debug_disabled');
    assert.match(body.error.message, /--debug-decisions N/);
  });
  const log = new DecisionLog(5);
  log.record({ time: 't', requestId: 'alice-1', pool: 'default/p', model: 'm', priority: 0, picked: '10.0.0.1:8000', profiles: [] });
  log.record({ time: 't', requestId: 'bob-2', pool: 'default/p', model: 'm', priority: 0, picked: '10.0.0.2:8000', profiles: [] });
  await withAdmin(log, async (url) => {
    const all = (await (await fetch(`${url}/debug/scheduling?limit=1`)).json()) as { request_ids: string; decisions: { requestId: string; picked: string }[] };
    assert.equal(all.request_ids, 'hashed');
    assert.equal(all.decisions.length, 1);
    assert.equal(all.decisions[0]!.picked, '10.0.0.2:8000');
    const one = (await (await fetch(`${url}/debug/scheduling?request_id=alice-1`)).json()) as { decisions: { requestId: string; picked: string }[] };
    assert.deepEqual(one.decisions.map((d) => d.picked), ['10.0.0.1:8000']);
    assert.equal(one.decisions[0]!.requestId, log.hashId('alice-1'));
  });
});

test('routes added later answer (a dashboard at /); unknown paths 404 listing the endpoints; other methods 405', () =>
  withAdmin(undefined, async (url, admin) => {
    const missing = await fetch(`${url}/`);
    assert.equal(missing.status, 404);
    assert.match(((await missing.json()) as { error: { message: string } }).error.message, /GET \/debug\/scheduling, GET \/metrics/);
    admin.route('/', (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>dashboard</h1>'));
    assert.equal(await (await fetch(`${url}/`)).text(), '<h1>dashboard</h1>');
    const post = await fetch(`${url}/metrics`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  }));
