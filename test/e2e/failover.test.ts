/** Failover: a replica that stops or never starts costs no request; weights split traffic across pools. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { baseModelRouteYaml, podYaml, poolYaml } from '../helpers/fleet.js';
import { withFleetGateway } from '../helpers/fleet-gateway.js';

const MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

test('stopping one replica mid-run fails no request', () =>
  withFleetGateway(
    33,
    [
      { name: 'llama-0', labels: {}, model: MODEL, ttftMs: 2, itlMs: 2 },
      { name: 'llama-1', labels: {}, model: MODEL, ttftMs: 2, itlMs: 2 },
      { name: 'llama-2', labels: {}, model: MODEL, ttftMs: 2, itlMs: 2 },
    ],
    (fleet) => [...['llama-0', 'llama-1', 'llama-2'].map((n) => podYaml(n, fleet.ipOf(n), { app: 'llama' })), poolYaml('llama', { app: 'llama' }, fleet.port), baseModelRouteYaml('llama', MODEL, [['llama', 1]])],
    async ({ fleet, gw, client }) => {
      const victim = fleet.sims.get('llama-1')!;
      const served = new Map<string, number>();
      let stopped: Promise<void> | undefined;
      let ok = 0;
      const total = 300;
      const concurrency = 12;
      for (let i = 0; i < total; i += concurrency) {
        // A third of the way in, the pod drains and goes away, as on SIGTERM; the config still lists it Ready.
        if (i >= total / 3 && !stopped) stopped = victim.close();
        await Promise.all(
          Array.from({ length: concurrency }, async (_, k) => {
            const stream = k % 2 === 0;
            const { response } = stream
              ? await client.completions.create({ model: MODEL, prompt: `p${i + k}`, max_tokens: 3, stream: true }).withResponse()
              : await client.completions.create({ model: MODEL, prompt: `p${i + k}`, max_tokens: 3 }).withResponse();
            const who = response.headers.get('x-inference-pod') ?? '?';
            served.set(who, (served.get(who) ?? 0) + 1);
            ok++;
          }),
        );
      }
      await stopped;
      assert.equal(ok, total);
      assert.ok((served.get('llama-1') ?? 0) > 0, 'the stopped replica served before it stopped');
      assert.ok((served.get('llama-1') ?? 0) < total / 2, `the stopped replica kept serving: ${JSON.stringify([...served])}`);
      const ep = gw.gateway.datastore.endpoint(`${victim.host}:${victim.port}`)!;
      // Noticed by a failed forward, or first by the metrics scraper, after which no request needs to fail on it.
      assert.ok(ep.consecutiveFailures > 0 || ep.metricsError !== undefined, `the gateway noticed the failed endpoint: ${JSON.stringify({ failures: ep.consecutiveFailures, metricsError: ep.metricsError })}`);
    },
  ));

test('a pod listed Ready whose server is not there: every request still succeeds via another endpoint', () =>
  withFleetGateway(
    34,
    [{ name: 'live-0', labels: {}, model: MODEL, ttftMs: 1, itlMs: 1 }],
    (fleet) => [
      podYaml('live-0', fleet.ipOf('live-0'), { app: 'llama' }),
      // Nothing listens on 127.0.34.9: connections are refused, as for a pod that crashed after its last probe.
      podYaml('dead-0', '127.0.34.9', { app: 'llama' }),
      poolYaml('llama', { app: 'llama' }, fleet.port),
      baseModelRouteYaml('llama', MODEL, [['llama', 1]]),
    ],
    async ({ fleet, gw, client }) => {
      // The dead pod never answered /v1/models, so the picker already knows it serves nothing: no retry needed.
      for (let i = 0; i < 20; i++) {
        const r = await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1 });
        assert.equal(r.model, MODEL);
      }
      const dead = gw.gateway.datastore.endpoint(`127.0.34.9:${fleet.port}`)!;
      assert.match(dead.modelsError ?? '', /ECONNREFUSED/);
    },
  ));

test('backendRef weights 70/30 split 200 requests within tolerance', () =>
  withFleetGateway(
    35,
    [
      { name: 'stable-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 0 },
      { name: 'canary-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 0 },
    ],
    (fleet) => [
      podYaml('stable-0', fleet.ipOf('stable-0'), { track: 'stable' }),
      podYaml('canary-0', fleet.ipOf('canary-0'), { track: 'canary' }),
      poolYaml('stable', { track: 'stable' }, fleet.port),
      poolYaml('canary', { track: 'canary' }, fleet.port),
      baseModelRouteYaml('split', MODEL, [
        ['stable', 70],
        ['canary', 30],
      ]),
    ],
    async ({ client }) => {
      let stable = 0;
      for (let i = 0; i < 200; i += 10) {
        const pods = await Promise.all(
          Array.from({ length: 10 }, async () => (await client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1 }).withResponse()).response.headers.get('x-inference-pod')),
        );
        stable += pods.filter((p) => p === 'stable-0').length;
      }
      // Binomial(200, 0.7) has sd 6.5: 140 +/- 20 is about 3 sd, as the Gateway API conformance tolerance allows.
      assert.ok(stable >= 120 && stable <= 160, `stable served ${stable} of 200`);
    },
  ));
