import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { gunzipSync } from 'node:zlib';
import { AdminServer, acceptsGzip } from './admin-server.js';
import { DecisionLog } from './decision-log.js';
import { createLogger } from '../logger.js';
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
    assert.equal(((await (await fetch(`${url}/debug/scheduling?limit=0`)).json()) as { decisions: unknown[] }).decisions.length, 0);
    // A limit that is no whole number answered as if the log were empty (-1, '') or were asked for all (abc).
    for (const bad of ['', '-1', 'abc', '1.5']) {
      const res = await fetch(`${url}/debug/scheduling?limit=${bad}`);
      assert.equal(res.status, 400, bad);
      const body = (await res.json()) as { error: { code: string; param: string; message: string } };
      assert.deepEqual([body.error.code, body.error.param], ['bad_request', 'limit']);
      assert.match(body.error.message, new RegExp(`^limit must be a whole number .*got "${bad}"$`));
    }
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
    // The catalogue's 405, as the traffic port answers one: its code says what is wrong, not a generic bad_request.
    const body = (await post.json()) as { error: { code: string; type: string; message: string } };
    assert.equal(body.error.code, 'method_not_allowed');
    assert.equal(body.error.type, 'invalid_request_error');
    assert.equal(body.error.message, 'POST /metrics is not served: the admin port answers GET (and HEAD) only');
  }));

/** GET `url` with `headers` over node:http (fetch would decompress unasked): status, headers and the raw body. */
function rawGet(url: string, headers: Record<string, string>): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    request(url, { headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    })
      .on('error', reject)
      .end();
  });
}

test('GET /metrics is gzipped when the scraper takes gzip (Prometheus does), the same text once decompressed', () =>
  withAdmin(undefined, async (url) => {
    const plain = await rawGet(`${url}/metrics`, {});
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(Number(plain.headers['content-length']), plain.body.length);
    const gz = await rawGet(`${url}/metrics`, { 'accept-encoding': 'gzip' });
    assert.equal(gz.status, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers.vary, 'accept-encoding');
    assert.equal(gz.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const text = gunzipSync(gz.body).toString('utf8');
    assert.ok(gz.body.length < text.length / 3, `compressed: ${gz.body.length} bytes for ${text.length}`);
    // Two renders differ only in what moved between them (CPU, memory, times): compare the series present.
    const names = (t: string): string[] => t.split('\n').filter((l) => l.startsWith('# TYPE')).sort();
    assert.deepEqual(names(text), names(plain.body.toString('utf8')));
    assert.match(text, /^llm_d_epp_info\{commit="[^"]*",build_ref="[^"]*"\} 1$/m);
  }));

test('a path starting with // is that path (404), not a URL whose host is its first segment (it got the dashboard at /)', () =>
  withAdmin(undefined, async (url, admin) => {
    admin.route('/', (_req, res) => void res.writeHead(200, { 'content-type': 'text/html' }).end('<h1>dashboard</h1>'));
    for (const path of ['//metrics', '//evil.example/', '//metrics?x=1']) {
      const res = await rawGet(`${url}${path}`, {});
      assert.equal(res.status, 404, path);
      const body = JSON.parse(res.body.toString('utf8')) as { error: { code: string; message: string } };
      assert.equal(body.error.code, 'route_not_found');
      assert.match(body.error.message, new RegExp(`^no admin endpoint at ${path.split('?')[0]!.replace(/\./g, '\\.')};`));
    }
    assert.equal((await rawGet(`${url}/`, {})).status, 200);
    // The absolute form (as sent to a proxy) still names the path it holds.
    const { hostname, port } = new URL(url);
    const absolute = await new Promise<number>((resolve, reject) => {
      request({ hostname, port, path: 'http://admin.example/metrics' }, (res) => {
        res.resume();
        resolve(res.statusCode!);
      })
        .on('error', reject)
        .end();
    });
    assert.equal(absolute, 200);
  }));

test('acceptsGzip reads Accept-Encoding as RFC 9110 does', () => {
  assert.equal(acceptsGzip(undefined), false);
  assert.equal(acceptsGzip('gzip'), true);
  assert.equal(acceptsGzip('deflate, GZIP;q=0.5'), true);
  assert.equal(acceptsGzip('gzip;q=0'), false);
  assert.equal(acceptsGzip('gzip;q=0, *'), false, 'a named coding wins over *');
  assert.equal(acceptsGzip('br, *;q=0.1'), true);
  assert.equal(acceptsGzip('identity'), false);
  assert.equal(acceptsGzip('*;q=0'), false);
});
