/**
 * Issue #13 part 4: pools with `appProtocol: kubernetes.io/h2c` are spoken to over HTTP/2 cleartext with prior
 * knowledge, for requests, `GET /v1/models` and /metrics, on simulated pods serving h2c only (`sim --h2c`).
 * Streaming, cancellation and failover behave as over HTTP/1.1; a pool whose pods speak the other protocol
 * gets an error that names the protocol and the field to change, not model discovery. Octet 127.0.91.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, waitFor } from '../helpers/fleet.js';
import { withFleetGateway } from '../helpers/fleet-gateway.js';
import { failure } from '../helpers/openai-failure.js';

const MODEL = 'h2c/model';
const H2C = 'kubernetes.io/h2c';

test('an h2c pool: discovery, scraping, whole and streamed answers over h2c to pods that speak nothing else', () =>
  withFleetGateway(
    91,
    ['h2c-0', 'h2c-1'].map((name) => ({ name, labels: {}, model: MODEL, ttftMs: 0, itlMs: 2, h2c: true })),
    (fleet) => [...['h2c-0', 'h2c-1'].map((n) => podYaml(n, fleet.ipOf(n), { app: 'h2c' })), poolYaml('h2c', { app: 'h2c' }, fleet.port, 'default', H2C), baseModelRouteYaml('h2c', MODEL, [['h2c', 1]])],
    async ({ fleet, gw, client }) => {
      // The pods refuse HTTP/1.1: whatever reaches them went over h2c.
      await assert.rejects(request(`${fleet.sims.get('h2c-0')!.url}/v1/models`, { headersTimeout: 2000 }), /HTTP\/1\.1 protocol|other side closed/i);

      const eps = [...gw.gateway.datastore.endpoints()];
      assert.equal(eps.length, 2);
      for (const ep of eps) {
        assert.equal(ep.h2c, true);
        assert.deepEqual([...(ep.models?.keys() ?? [])], [MODEL], `discovered over h2c: ${ep.modelsError ?? ''}`);
      }
      assert.ok(await waitFor(() => eps.every((ep) => ep.metrics !== undefined && ep.metricsError === undefined)), `scraped over h2c: ${eps.map((e) => e.metricsError).join('; ')}`);

      // Concurrent whole answers, multiplexed on the pods' connections.
      const served = await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const { data, response } = await client.completions.create({ model: MODEL, prompt: `hello ${i}`, max_tokens: 3 }).withResponse();
          assert.equal(data.choices.length, 1);
          return response.headers.get('x-inference-pod');
        }),
      );
      assert.deepEqual(new Set(served), new Set(['h2c-0', 'h2c-1']));

      // A streamed answer arrives token by token, as over HTTP/1.1.
      const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'count' }], max_tokens: 6, stream: true, stream_options: { include_usage: true } });
      let chunks = 0;
      let usage: unknown;
      for await (const c of stream) {
        chunks++;
        usage ??= c.usage ?? undefined;
      }
      assert.ok(chunks >= 6, `${chunks} chunks`);
      assert.ok(usage, 'the usage chunk passed through');
    },
  ));

test('over h2c a client that leaves cancels its stream on the pod (RST_STREAM), and a draining pod refuses new streams that fail over', () =>
  withFleetGateway(
    91,
    ['slow-0', 'slow-1'].map((name) => ({ name, labels: {}, model: MODEL, ttftMs: 0, itlMs: 20, h2c: true })),
    (fleet) => [...['slow-0', 'slow-1'].map((n) => podYaml(n, fleet.ipOf(n), { app: 'slow' })), poolYaml('slow', { app: 'slow' }, fleet.port, 'default', H2C), baseModelRouteYaml('slow', MODEL, [['slow', 1]])],
    async ({ fleet, client }) => {
      const running = (): number => [...fleet.sims.values()].reduce((n, s) => n + s.stats().running, 0);
      // Cancellation: a long stream, abandoned after its first token.
      const controller = new AbortController();
      const stream = await client.completions.create({ model: MODEL, prompt: 'a long story', max_tokens: 500, stream: true }, { signal: controller.signal });
      for await (const _ of stream) break; // the first chunk, then the client leaves
      controller.abort();
      assert.ok(await waitFor(() => running() === 0, 5000), `the pod stopped generating for the client that left (running ${running()})`);

      // Failover while a pod drains: slow-0 holds a request in flight and closes; new streams on its open
      // connection are refused (REFUSED_STREAM) and go to slow-1, and the request in flight finishes.
      const victim = fleet.sims.get('slow-0')!;
      const held = await client.completions.create({ model: MODEL, prompt: 'held', max_tokens: 40, stream: true }, { headers: {} }).withResponse();
      const heldPod = held.response.headers.get('x-inference-pod');
      const closing = (heldPod === 'slow-0' ? victim : fleet.sims.get('slow-1')!).close();
      const drained = heldPod === 'slow-0' ? 'slow-1' : 'slow-0';
      const answers = await Promise.all(Array.from({ length: 10 }, async (_, i) => (await client.completions.create({ model: MODEL, prompt: `after ${i}`, max_tokens: 1 }).withResponse()).response.headers.get('x-inference-pod')));
      assert.deepEqual(new Set(answers), new Set([drained]), 'every request after the close was served by the other pod');
      let text = '';
      for await (const c of held.data) text += c.choices[0]?.text ?? '';
      assert.ok(text.length > 0, 'the request in flight on the draining pod finished');
      await closing;
    },
  ));

test('a protocol mismatch names the protocol: HTTP/1.1 pods behind an h2c pool, and h2c pods behind an http pool', () =>
  withFleetGateway(
    91,
    [
      { name: 'plain-0', labels: {}, model: 'model/plain', ttftMs: 0, itlMs: 1 },
      { name: 'h2-0', labels: {}, model: 'model/h2', ttftMs: 0, itlMs: 1, h2c: true },
    ],
    (fleet) => [
      podYaml('plain-0', fleet.ipOf('plain-0'), { app: 'plain' }),
      podYaml('h2-0', fleet.ipOf('h2-0'), { app: 'h2' }),
      // Both pools say the wrong thing about their pods.
      poolYaml('plain', { app: 'plain' }, fleet.port, 'default', H2C),
      poolYaml('h2', { app: 'h2' }, fleet.port),
      baseModelRouteYaml('plain', 'model/plain', [['plain', 1]]),
      baseModelRouteYaml('h2', 'model/h2', [['h2', 1]]),
      // model/plain is declared, so its request reaches the picker; model/h2 is known from pods only.
      allowlistYaml('plain', 'model/plain', []),
    ],
    async ({ fleet, gw, client }) => {
      // A declared model reaches the picker, which says why the pool's endpoint cannot take it.
      const h1 = await failure(client.completions.create({ model: 'model/plain', prompt: 'x', max_tokens: 1 }));
      assert.deepEqual([h1.status, h1.code], [503, 'no_healthy_endpoint'], h1.message);
      assert.match(h1.message, new RegExp(`${fleet.ipOf('plain-0').replace(/\./g, '\\.')}:${fleet.port}.*does not speak HTTP/2: its InferencePool has spec\\.appProtocol kubernetes\\.io/h2c`));
      assert.match(h1.message, /remove spec\.appProtocol from the InferencePool \(or set it to http\)/);
      assert.doesNotMatch(h1.message, /has not answered GET \/v1\/models/);

      // A model only pods would name is unknown (404), and the 404 says why, per endpoint.
      const h2 = await failure(client.completions.create({ model: 'model/h2', prompt: 'x', max_tokens: 1 }));
      assert.deepEqual([h2.status, h2.code], [404, 'model_not_found'], h2.message);
      assert.match(h2.message, new RegExp(`${fleet.ipOf('h2-0').replace(/\./g, '\\.')}:${fleet.port} \\(pod default/h2-0\\): the endpoint answers in HTTP/2 \\(cleartext, h2c\\) only.*spec\\.appProtocol http \\(the default\\).*set spec\\.appProtocol: kubernetes\\.io/h2c`));
      assert.doesNotMatch(h2.message, /has not answered GET \/v1\/models/);

      // The same words reach the scraper's error, which the dashboard and the logs show.
      const ep = gw.gateway.datastore.endpoint(`${fleet.ipOf('h2-0')}:${fleet.port}`)!;
      assert.ok(await waitFor(() => ep.metricsError !== undefined));
      assert.match(ep.metricsError!, /answers in HTTP\/2/);
    },
  ));
