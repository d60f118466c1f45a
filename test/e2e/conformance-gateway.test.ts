/**
 * GIE's conformance suite (kubernetes-sigs/gateway-api-inference-extension `conformance/tests`), Gateway side,
 * translated onto simulated pods in file mode (issue #13 part 5; docs/conformance.md lists every upstream test
 * and where it is covered). The suite's resources are kept: pools `primary-inference-pool` (FailClose) and
 * `secondary-inference-pool` (FailOpen) of three pods each, Gateways `conformance-primary` and
 * `conformance-secondary`, the routes' hostnames, parentRefs, backendRefs and weights, the suite's request body
 * and its `test-epp-endpoint-selection` header, and infergate configured as the suite's EPP
 * (deploy/conformance/endpoint-picker-config.yaml). One translation: the suite's pods are echo servers that
 * answer any path, ours are vLLM simulators that answer vLLM's, so each route's path becomes a vLLM path
 * (POSTs: /v1/completions, or /v1/chat/completions where a case needs a second path; body-less GETs: /health).
 *
 * The same cases untranslated, on pods that behave as the suite's echo servers (any path, no model list), are in
 * conformance-echo.test.ts.
 *
 * Pinned picks by ip and ip:port across pods and data-parallel ranks (GatewayFollowingEPPRouting[WithDataParallelism])
 * and failureMode (EppUnAvailableFailOpen) are in endpoint-picker-ref.test.ts; the invalid EPP Service in
 * Kubernetes mode in endpoint-picker-ref-kube.test.ts; status conditions in conformance-kube.test.ts.
 * Octet 127.0.92.x (127.0.93.x for the appProtocol pods).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { startSimulator, type RunningSimulator } from '../../src/sim/simulator.js';
import { podYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { repoRoot } from '../helpers/local-kube.js';
import { conformanceRoute, type ConformanceRoute } from '../helpers/conformance-route.js';

const MODEL = 'conformance-fake-model';
const SELECT = 'test-epp-endpoint-selection';
const RESULT = 'x-conformance-test-served-endpoint';
const BODY = JSON.stringify({ model: MODEL, prompt: 'Write as if you were a critic: San Francisco' });
const PRIMARY = ['primary-inference-model-server-0', 'primary-inference-model-server-1', 'primary-inference-model-server-2'];
const SECONDARY = ['secondary-inference-model-server-0', 'secondary-inference-model-server-1', 'secondary-inference-model-server-2'];
const CONFIG_FILE = join(repoRoot(), 'deploy', 'conformance', 'endpoint-picker-config.yaml');

let fleet: Fleet;
let eppConfig: { text: string; file: string };

before(async () => {
  eppConfig = { text: await readFile(CONFIG_FILE, 'utf8'), file: CONFIG_FILE };
  fleet = await startFleet(92, [...PRIMARY, ...SECONDARY].map((name) => ({ name, labels: {}, model: MODEL, ttftMs: 0, itlMs: 1, maxTokensDefault: 2 })));
});

after(async () => {
  await fleet?.close();
});

/** An InferencePool as base.yaml declares it, on the fleet's port. */
function pool(name: string, app: string, extra = `  endpointPickerRef: {name: ${name.replace('-inference-pool', '')}-endpoint-picker-svc, port: {number: 9002}}\n`): string {
  return `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: ${app}}}
  targetPorts: [{number: ${fleet.port}}]
${extra}`;
}

/** The suite's two pools and their pods (base.yaml): secondary is FailOpen. */
function basePools(): string[] {
  return [
    ...PRIMARY.map((n) => podYaml(n, fleet.ipOf(n), { app: 'primary-inference-model-server' })),
    ...SECONDARY.map((n) => podYaml(n, fleet.ipOf(n), { app: 'secondary-inference-model-server' })),
    pool('primary-inference-pool', 'primary-inference-model-server'),
    pool('secondary-inference-pool', 'secondary-inference-model-server', '  endpointPickerRef: {name: secondary-endpoint-picker-svc, failureMode: FailOpen, port: {number: 9002}}\n'),
  ];
}

/** The suite's route manifests (test/helpers/conformance-route.ts). */
const route = (r: Omit<ConformanceRoute, 'namespace'>): string => conformanceRoute(r);

interface Answer {
  status: number;
  pod: string | undefined;
  served: string | undefined;
  result: string | undefined;
  text: string;
}

/** One request as the suite sends it: Host, path, method, the suite's body for POSTs, and the selection header. */
async function send(gw: RunningGateway, opts: { host?: string; path?: string; method?: 'GET' | 'POST'; select?: string }): Promise<Answer> {
  const method = opts.method ?? 'POST';
  const headers: Record<string, string> = { host: opts.host ?? 'primary.example.com' };
  if (opts.select !== undefined) headers[SELECT] = opts.select;
  if (method === 'POST') headers['content-type'] = 'application/json';
  const res = await request(`${gw.url}${opts.path ?? '/v1/completions'}`, { method, headers, body: method === 'POST' ? BODY : null, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  const h = (n: string): string | undefined => (res.headers[n] as string | undefined) ?? undefined;
  return { status: res.statusCode, pod: h('x-inference-pod'), served: h('x-gateway-destination-endpoint-served'), result: h(RESULT), text };
}

/** A gateway reading `docs`, configured as the suite's EPP; closed with its files by the returned function. */
async function gateway(docs: string[], gatewayName?: string): Promise<{ gw: RunningGateway; cfg: TempConfig; close: () => Promise<void> }> {
  const cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  const gw = await startTestGateway(cfg.dir, { eppConfig, ...(gatewayName !== undefined ? { gatewayName } : {}), configEdits: { allowEmptyConfig: true } });
  return {
    gw,
    cfg,
    close: async () => {
      await gw.close();
      await cfg.remove();
    },
  };
}

const allIps = (): string => [...PRIMARY, ...SECONDARY].map((n) => fleet.ipOf(n)).join(',');

test('HTTPRouteMultipleRulesDifferentPools: two rules of one route send their paths to two pools', async () => {
  const t = await gateway([
    ...basePools(),
    route({ name: 'httproute-multiple-rules-different-pools', gateway: 'conformance-primary', rules: [{ path: '/v1/completions', refs: [{ pool: 'primary-inference-pool' }] }, { path: '/v1/chat/completions', refs: [{ pool: 'secondary-inference-pool' }] }] }),
  ]);
  try {
    // The header names every pod of both pools; each pool's picker keeps its own.
    for (let i = 0; i < 6; i++) {
      const a = await send(t.gw, { path: '/v1/completions', select: allIps() });
      assert.equal(a.status, 200, a.text);
      assert.ok(PRIMARY.includes(a.pod ?? ''), `primary path served by ${a.pod}`);
      const b = await request(`${t.gw.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json', [SELECT]: allIps() }, body: JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 }) });
      await b.body.text();
      assert.equal(b.statusCode, 200);
      assert.ok(SECONDARY.includes(String(b.headers['x-inference-pod'])), `secondary path served by ${String(b.headers['x-inference-pod'])}`);
    }
  } finally {
    await t.close();
  }
});

test('HTTPRouteMultipleGatewaysDifferentPools: each Gateway serves its own route, to its own pool, and not the other\'s', async () => {
  const docs = [
    ...basePools(),
    route({ name: 'route-for-primary-gateway', gateway: 'conformance-primary', hostnames: ['primary.example.com'], rules: [{ path: '/health', refs: [{ pool: 'primary-inference-pool' }] }] }),
    route({ name: 'route-for-secondary-gateway', gateway: 'conformance-secondary', hostnames: ['secondary.example.com'], rules: [{ path: '/health', refs: [{ pool: 'secondary-inference-pool' }] }] }),
  ];
  const primary = await gateway(docs, 'conformance-primary');
  const secondary = await gateway(docs, 'conformance-secondary');
  try {
    // The suite's requests here are GETs without a body or selection header: any pod of the pool.
    const p = await send(primary.gw, { method: 'GET', host: 'primary.example.com', path: '/health' });
    assert.equal(p.status, 200, p.text);
    assert.ok(PRIMARY.includes(p.pod ?? ''), `served by ${p.pod}`);
    const s = await send(secondary.gw, { method: 'GET', host: 'secondary.example.com', path: '/health' });
    assert.equal(s.status, 200, s.text);
    assert.ok(SECONDARY.includes(s.pod ?? ''), `served by ${s.pod}`);
    // A route attached to the other Gateway is not served here.
    assert.equal((await send(primary.gw, { method: 'GET', host: 'secondary.example.com', path: '/health' })).status, 404);
    assert.equal((await send(secondary.gw, { method: 'GET', host: 'primary.example.com', path: '/health' })).status, 404);
  } finally {
    await primary.close();
    await secondary.close();
  }
});

test('GatewayWeightedAcrossTwoInferencePools: 70/30 backendRef weights split 200 requests within the suite\'s tolerance, each on a pod of the chosen pool', async () => {
  const t = await gateway([
    ...basePools(),
    route({ name: 'httproute-weighted-two-pools', gateway: 'conformance-primary', hostnames: ['primary.example.com'], rules: [{ path: '/v1/completions', refs: [{ pool: 'primary-inference-pool', weight: 70 }, { pool: 'secondary-inference-pool', weight: 30 }] }] }),
  ]);
  try {
    // Warm-up as the suite does: every pod pinned by ip:port through this route.
    for (const name of [...PRIMARY, ...SECONDARY]) {
      const a = await send(t.gw, { select: `${fleet.ipOf(name)}:${fleet.port}` });
      // A pin to the other pool's pod may land on the pool the weights did not pick: 503 there, as in the suite's retries.
      assert.ok(a.status === 200 || a.status === 503, `${name}: ${a.status} ${a.text}`);
    }
    const total = 200;
    let primaryHits = 0;
    let secondaryHits = 0;
    const queue = Array.from({ length: total }, (_, i) => i);
    await Promise.all(
      Array.from({ length: 5 }, async () => {
        while (queue.shift() !== undefined) {
          const a = await send(t.gw, { select: allIps() });
          assert.equal(a.status, 200, a.text);
          if (PRIMARY.includes(a.pod ?? '')) primaryHits++;
          else if (SECONDARY.includes(a.pod ?? '')) secondaryHits++;
          else assert.fail(`served by an unexpected pod ${a.pod}`);
        }
      }),
    );
    assert.equal(primaryHits + secondaryHits, total);
    const observed = primaryHits / total;
    const tolerance = Math.max(0.1, 4.5 * Math.sqrt((0.7 * 0.3) / total));
    assert.ok(Math.abs(observed - 0.7) <= tolerance, `primary share ${observed.toFixed(3)}, expected 0.700 +- ${tolerance.toFixed(3)}`);
  } finally {
    await t.close();
  }
});

test('GatewayDestinationEndpointServed: the pod the header names serves, and x-conformance-test-served-endpoint says ip:port', async () => {
  const t = await gateway([
    ...basePools(),
    route({ name: 'httproute-for-destination-endpoint-served', gateway: 'conformance-primary', hostnames: ['primary.example.com'], rules: [{ path: '/v1/completions', refs: [{ pool: 'primary-inference-pool' }] }] }),
  ]);
  try {
    for (const name of PRIMARY) {
      const a = await send(t.gw, { select: fleet.ipOf(name) });
      assert.equal(a.status, 200, a.text);
      assert.equal(a.pod, name);
      assert.equal(a.result, `${fleet.ipOf(name)}:${fleet.port}`);
      assert.equal(a.served, a.result, 'the same endpoint infergate reports as the Gateway');
    }
  } finally {
    await t.close();
  }
});

test('InferencePoolHTTPRoutePortValidation: a backendRef port unspecified, matching or not matching the pool\'s targetPort is served alike', async () => {
  const t = await gateway([
    ...basePools(),
    route({ name: 'httproute-pool-port-unspecified', gateway: 'conformance-primary', hostnames: ['port-unspecified.example.com'], rules: [{ path: '/health', refs: [{ pool: 'primary-inference-pool' }] }] }),
    route({ name: 'httproute-pool-port-matching', gateway: 'conformance-primary', hostnames: ['port-matching.example.com'], rules: [{ path: '/health', refs: [{ pool: 'primary-inference-pool', port: fleet.port }] }] }),
    route({ name: 'httproute-pool-port-non-matching', gateway: 'conformance-primary', hostnames: ['port-non-matching.example.com'], rules: [{ path: '/health', refs: [{ pool: 'primary-inference-pool', port: 8888 }] }] }),
  ]);
  try {
    for (const host of ['port-unspecified.example.com', 'port-matching.example.com', 'port-non-matching.example.com']) {
      const a = await send(t.gw, { method: 'GET', host, path: '/health' });
      assert.equal(a.status, 200, `${host}: ${a.text}`);
      assert.ok(PRIMARY.includes(a.pod ?? ''), `${host} served by ${a.pod}`);
      assert.equal(a.served, `${fleet.ipOf(a.pod!)}:${fleet.port}`, 'the pool\'s targetPort, whatever the backendRef says');
    }
  } finally {
    await t.close();
  }
});

test('HTTPRouteInvalidInferencePoolRef and InferencePoolMissingEPPRef: a route to a pool that does not exist answers 500; a pool without endpointPickerRef is served', async () => {
  const t = await gateway([
    ...basePools(),
    pool('pool-with-missing-epp-ref', 'primary-inference-model-server', ''),
    route({ name: 'httproute-to-non-existent-pool', gateway: 'conformance-primary', rules: [{ path: '/health', refs: [{ pool: 'non-existent-inference-pool' }] }] }),
    route({ name: 'httproute-for-missing-epp-ref-pool', gateway: 'conformance-primary', hostnames: ['missing.example.com'], rules: [{ path: '/health', refs: [{ pool: 'pool-with-missing-epp-ref' }] }] }),
  ]);
  try {
    const missingPool = await send(t.gw, { method: 'GET', path: '/health' });
    assert.equal(missingPool.status, 500, missingPool.text);
    assert.match(missingPool.text, /non-existent-inference-pool/);
    const noRef = await send(t.gw, { method: 'GET', host: 'missing.example.com', path: '/health' });
    assert.equal(noRef.status, 200, noRef.text);
    assert.ok(PRIMARY.includes(noRef.pod ?? ''));
    assert.equal(t.gw.gateway.schedulers.pickerRef('default/pool-with-missing-epp-ref')?.picker, 'self');
  } finally {
    await t.close();
  }
});

test('InferencePoolResolvedRefsCondition (routing): one pool behind routes of two Gateways; deleting each route stops that Gateway serving it (404)', async () => {
  const primaryRoute = route({ name: 'httproute-for-primary-gw', gateway: 'conformance-primary', hostnames: ['primary.example.com'], rules: [{ path: '/health', refs: [{ pool: 'primary-inference-pool' }] }] });
  const secondaryRoute = route({ name: 'httproute-for-secondary-gw', gateway: 'conformance-secondary', hostnames: ['secondary.example.com'], rules: [{ path: '/health', refs: [{ pool: 'primary-inference-pool' }] }] });
  const primary = await gateway([...basePools(), primaryRoute, secondaryRoute], 'conformance-primary');
  const secondary = await gateway([...basePools(), primaryRoute, secondaryRoute], 'conformance-secondary');
  const status = async (gw: RunningGateway, host: string): Promise<Answer> => send(gw, { method: 'GET', host, path: '/health' });
  try {
    const p = await status(primary.gw, 'primary.example.com');
    const s = await status(secondary.gw, 'secondary.example.com');
    assert.deepEqual([p.status, s.status], [200, 200]);
    assert.ok(PRIMARY.includes(p.pod ?? '') && PRIMARY.includes(s.pod ?? ''), 'both Gateways send to the primary pool');

    for (const t of [primary, secondary]) await t.cfg.write('all.yaml', [...basePools(), secondaryRoute].join('---\n'));
    assert.ok(await waitFor(async () => (await status(primary.gw, 'primary.example.com')).status === 404, 10_000), 'the primary Gateway stops serving the deleted route');
    assert.equal((await status(secondary.gw, 'secondary.example.com')).status, 200, 'the secondary Gateway still serves its route');

    for (const t of [primary, secondary]) await t.cfg.write('all.yaml', basePools().join('---\n'));
    assert.ok(await waitFor(async () => (await status(secondary.gw, 'secondary.example.com')).status === 404, 10_000), 'no route left: 404');
  } finally {
    await primary.close();
    await secondary.close();
  }
});

test('InferencePoolAppProtocol: explicit h2c, explicit http and omitted appProtocol pools, each pinned by ip:port on pods that serve HTTP/1.1 on one port and h2c on another', async () => {
  // The suite's appProtocol backend: each pod serves HTTP/1.1 on one port and h2c (only) on another.
  const hosts = ['127.0.93.20', '127.0.93.21'];
  const sims: RunningSimulator[] = [];
  let httpPort = 0;
  let h2cPort = 0;
  let t: Awaited<ReturnType<typeof gateway>> | undefined;
  try {
    for (const [i, host] of hosts.entries()) {
      const h1 = await startSimulator({ model: MODEL, host, port: httpPort, podName: `appprotocol-${i}`, ttftMs: 0, itlMs: 1, maxTokensDefault: 2 });
      httpPort = h1.port;
      const h2 = await startSimulator({ model: MODEL, host, port: h2cPort, podName: `appprotocol-${i}`, ttftMs: 0, itlMs: 1, maxTokensDefault: 2, h2c: true });
      h2cPort = h2.port;
      sims.push(h1, h2);
    }
    const appPool = (name: string, port: number, appProtocol?: string): string => `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {app: appprotocol-inference-model-server}}
  targetPorts: [{number: ${port}}]
${appProtocol ? `  appProtocol: ${appProtocol}\n` : ''}  endpointPickerRef: {name: ${name.replace('-inference-pool', '')}-endpoint-picker-svc, port: {number: 9002}}
`;
    t = await gateway([
      ...hosts.map((ip, i) => podYaml(`appprotocol-${i}`, ip, { app: 'appprotocol-inference-model-server' })),
      appPool('appprotocol-h2c-inference-pool', h2cPort, 'kubernetes.io/h2c'),
      appPool('appprotocol-http-inference-pool', httpPort, 'http'),
      // The suite's "omitted" case uses the primary pool; this one omits appProtocol on the same pods' HTTP/1.1 port.
      appPool('appprotocol-default-inference-pool', httpPort),
      route({ name: 'httproute-for-inferencepool-appprotocol-h2c', gateway: 'conformance-primary', hostnames: ['appprotocol-h2c.example.com'], rules: [{ path: '/v1/completions', refs: [{ pool: 'appprotocol-h2c-inference-pool' }] }] }),
      route({ name: 'httproute-for-inferencepool-appprotocol-http', gateway: 'conformance-primary', hostnames: ['appprotocol-http.example.com'], rules: [{ path: '/v1/completions', refs: [{ pool: 'appprotocol-http-inference-pool' }] }] }),
      route({ name: 'httproute-for-inferencepool-appprotocol-default', gateway: 'conformance-primary', hostnames: ['appprotocol-default.example.com'], rules: [{ path: '/v1/completions', refs: [{ pool: 'appprotocol-default-inference-pool' }] }] }),
    ]);
    const cases: [string, number][] = [
      ['appprotocol-h2c.example.com', h2cPort],
      ['appprotocol-http.example.com', httpPort],
      ['appprotocol-default.example.com', httpPort],
    ];
    for (const [host, port] of cases) {
      for (const [i, ip] of hosts.entries()) {
        const a = await send(t.gw, { host, select: `${ip}:${port}` });
        assert.equal(a.status, 200, `${host} -> ${ip}:${port}: ${a.text}`);
        assert.equal(a.result, `${ip}:${port}`);
        assert.equal(a.pod, `appprotocol-${i}`);
      }
    }
  } finally {
    await t?.close();
    await Promise.all(sims.map((s) => s.close()));
  }
});
