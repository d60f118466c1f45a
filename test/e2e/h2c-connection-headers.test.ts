/**
 * A client's connection-specific headers never reach an h2c pool: Node's HTTP/2 client throws on them, and a
 * client's `HTTP2-Settings` (an HTTP/1.1 h2c upgrade's) stopped the whole gateway, thrown where nothing caught
 * it. Octet 127.0.159.x.
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
