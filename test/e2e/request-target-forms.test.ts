/**
 * Request targets that are not a path (RFC 9112 §3.2): `OPTIONS *` is answered by the gateway, and a target with
 * no path to route on (`*` with another method, an ftp:// URL, an http URL that does not parse) gets a 400,
 * instead of a 502 counted against the pod picked, which three such requests ejected. A target with a fragment
 * (`#...`) gets a 400 too: vLLM's parser routes `/v1/load_lora_adapter#x` as the admin path the gateway refuses.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'targets/model';
const HOST = '127.0.158.1';

let fleet: Fleet;
let cfg: TempConfig;
let gw: RunningGateway;

before(async () => {
  fleet = await startFleet(158, [{ name: 'pod-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 0 }]);
  cfg = await tempConfig({ 'all.yaml': [podYaml('pod-0', fleet.ipOf('pod-0'), { app: 'targets' }), poolYaml('targets', { app: 'targets' }, fleet.port), baseModelRouteYaml('targets', MODEL, [['targets', 1]])].join('---\n') });
  gw = await startTestGateway(cfg.dir, { host: HOST, adminHost: HOST });
});

after(async () => {
  await gw?.close();
  await fleet?.close();
  await cfg?.remove();
});

/** Writes `raw` on a new connection and reads one answer (its head and Content-Length body), within 5 s. */
function exchange(raw: string): Promise<{ status: number; head: string; body: string }> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: HOST, port: gw.address.port, localAddress: '127.0.158.9' }, () => s.write(raw));
    let text = '';
    const timer = setTimeout(() => {
      s.destroy();
      reject(new Error(`no answer in 5 s; got ${JSON.stringify(text)}`));
    }, 5000);
    s.on('error', () => undefined);
    s.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return;
      const head = text.slice(0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
      if (text.length < end + 4 + length) return;
      clearTimeout(timer);
      s.destroy();
      resolve({ status: Number(head.split(' ')[1]), head, body: Buffer.from(text.slice(end + 4, end + 4 + length), 'latin1').toString('utf8') });
    });
  });
}

describe('request targets that are not a path', () => {
  test('OPTIONS * is answered by the gateway: 200 with the methods it routes', async () => {
    const a = await exchange('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(a.status, 200, a.head + a.body);
    assert.match(a.head, /\r\nallow: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH\r\n/i);
    assert.match(a.head, /\r\nx-request-id: \S+\r\n/i);
    assert.equal(a.body, '');
  });

  const targets = ['*', 'ftp://example.com/v1/chat/completions', 'http://[bad/v1/chat/completions', 'http://example.com:99999/v1/chat/completions'];
  for (const target of targets) {
    test(`POST ${target}: 400 bad_request in OpenAI's shape, saying to send a path`, async () => {
      const body = JSON.stringify({ model: MODEL, prompt: 'hi', max_tokens: 1 });
      const a = await exchange(`POST ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      assert.equal(a.status, 400, a.head + a.body);
      const err = (JSON.parse(a.body) as { error: Record<string, unknown> }).error;
      assert.deepEqual(Object.keys(err), ['message', 'type', 'param', 'code']);
      assert.equal(err.code, 'bad_request');
      assert.equal(err.type, 'invalid_request_error');
      assert.equal(err.message, `POST ${target}: the request target is neither a path nor a valid http(s) URL; send the request to a path, as in POST /v1/chat/completions`);
    });
  }

  test('such requests, however many, leave the pod in service', async () => {
    // Bounded: outlier detection ejects after 3 gateway failures in a row (--outlier-consecutive-gateway-failure).
    for (let i = 0; i < 5; i++) {
      assert.equal((await exchange('GET ftp://example.com/v1/models HTTP/1.1\r\nHost: x\r\n\r\n')).status, 400);
      assert.equal((await exchange('OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n')).status, 200);
    }
    const ready = (await (await fetch(`${gw.url}/readyz`)).json()) as { status: string; details?: { ejected?: unknown } };
    assert.equal(ready.status, 'ready');
    assert.equal(ready.details?.ejected, undefined, JSON.stringify(ready));
    const r = await fetch(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt: 'hi', max_tokens: 1 }) });
    assert.equal(r.status, 200);
  });
});

describe('a request target with a fragment', () => {
  const body = JSON.stringify({ model: MODEL, lora_name: 'x', lora_path: '/tmp/x' });
  const cases: [method: string, target: string][] = [
    ['POST', '/v1/load_lora_adapter#x'],
    ['POST', '/sleep#?level=2'],
    ['POST', '/v1/completions#'],
    ['POST', '/v1/completions?a=1#b'],
    ['GET', '/v1/models#x'],
  ];
  for (const [method, target] of cases) {
    test(`${method} ${target}: 400 bad_request, not forwarded with its path unchecked`, async () => {
      const a = await exchange(`${method} ${target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      assert.equal(a.status, 400, a.head + a.body);
      const err = (JSON.parse(a.body) as { error: Record<string, unknown> }).error;
      assert.deepEqual(Object.keys(err), ['message', 'type', 'param', 'code']);
      assert.equal(err.code, 'bad_request');
      assert.equal(err.message, `${method} ${target}: the request target has a fragment (from #), which a request must not carry (RFC 9112 §3.2); send the path and query without it`);
    });
  }
});
