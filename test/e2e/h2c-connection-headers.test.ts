/**
 * What undici's HTTP/2 client cannot send never reaches an h2c pool: a client's `HTTP2-Settings` (an HTTP/1.1 h2c
 * upgrade's), on which Node's HTTP/2 client throws, and the body of a GET, HEAD, DELETE or OPTIONS, on which
 * undici fails an assertion. Either stopped the whole gateway, thrown where nothing caught it. Octet 127.0.159.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { baseModelRouteYaml, podYaml, poolYaml } from '../helpers/fleet.js';
import { withFleetGateway } from '../helpers/fleet-gateway.js';

const MODEL = 'h2c-headers/model';

test("a client's HTTP2-Settings header is not sent to an h2c pool: the requests are served, the gateway stays up", () =>
  withFleetGateway(
    159,
    [{ name: 'h2c-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 0, h2c: true }],
    (fleet) => [podYaml('h2c-0', fleet.ipOf('h2c-0'), { app: 'h2c' }), poolYaml('h2c', { app: 'h2c' }, fleet.port, 'default', 'kubernetes.io/h2c'), baseModelRouteYaml('h2c', MODEL, [['h2c', 1]])],
    async ({ gw }) => {
      const body = JSON.stringify({ model: MODEL, prompt: 'hi', max_tokens: 1 });
      // Bounded: a fresh connection to the pod and one reused, each of which threw before.
      for (let i = 0; i < 3; i++) {
        const r = await request(`${gw.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'http2-settings': 'AAMAAABkAARAAAAAAAIAAAAA' },
          body,
          headersTimeout: 5000,
        });
        const text = await r.body.text();
        assert.equal(r.statusCode, 200, text);
        assert.equal((JSON.parse(text) as { model: string }).model, MODEL);
      }
      const ready = await request(`${gw.url}/readyz`);
      assert.equal(ready.statusCode, 200);
      assert.deepEqual(await ready.body.json(), { status: 'ready', config_version: 1 });
    },
    { host: '127.0.159.1' },
  ));

test('a GET, HEAD, DELETE or OPTIONS with a body reaches an h2c pool (without its body), and the gateway stays up', () =>
  withFleetGateway(
    159,
    [{ name: 'h2c-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 0, h2c: true }],
    (fleet) => [podYaml('h2c-0', fleet.ipOf('h2c-0'), { app: 'h2c' }), poolYaml('h2c', { app: 'h2c' }, fleet.port, 'default', 'kubernetes.io/h2c'), baseModelRouteYaml('h2c', MODEL, [['h2c', 1]])],
    async ({ gw }) => {
      const body = JSON.stringify({ model: MODEL });
      // Bounded: each method on a new connection to the pod, then on one already open (a 502 and a stuck connection before).
      for (const method of ['HEAD', 'GET', 'DELETE', 'OPTIONS', 'HEAD', 'GET', 'DELETE', 'OPTIONS'] as const) {
        const r = await request(`${gw.url}/v1/completions`, { method, headers: { 'content-type': 'application/json' }, body, headersTimeout: 5000 });
        const text = await r.body.text();
        assert.ok(r.statusCode < 500, `${method}: ${r.statusCode} ${text}`);
        assert.ok(r.headers['x-gateway-destination-endpoint-served'], `${method}: answered by the pod, ${r.statusCode} ${text}`);
      }
      const r = await request(`${gw.url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: MODEL, prompt: 'hi', max_tokens: 1 }), headersTimeout: 5000 });
      assert.equal(r.statusCode, 200, await r.body.text());
    },
    { host: '127.0.159.1' },
  ));
