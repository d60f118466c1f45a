/**
 * GIE's conformance suite (kubernetes-sigs/gateway-api-inference-extension `conformance/tests`) as the real suite
 * runs it against infergate alone: the suite's pods are Gateway API's echo server, not model servers. They answer
 * every path, `GET /v1/models` included, with an account of the request they received, and list no models. The
 * routes, paths, hostnames, request bodies and selection headers are the suite's own, untranslated (the vLLM-path
 * translation of the same cases on simulated vLLM pods is conformance-gateway.test.ts).
 *
 * Each answer is judged as the suite's CompareRoundTrip judges it: the status; then, for a 200, the Host, path and
 * method the pod saw, its namespace, that its name starts with the expected backend, and the response headers
 * (x-conformance-test-served-endpoint). Data-parallel ranks are told apart by the port the pod saw (`httpPort`).
 *
 * Not here: the status conditions (conformance-kube.test.ts, gateway-status-kube.test.ts) and the EPP Service
 * made unavailable or missing (endpoint-picker-ref-kube.test.ts), which need an API server.
 * Octets: 127.0.190.x (primary and secondary pods), 127.0.191.x (data-parallel pods), 127.0.192.x (appProtocol
 * pods), 127.0.193.1 (the gateway).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, startTestGateway, tempConfig, waitFor } from '../helpers/fleet.js';
import { startEchoPod, type EchoAccount, type EchoPod } from '../helpers/echo-pod.js';
import { repoRoot } from '../helpers/local-kube.js';
import { conformanceRoute, type ConformanceRoute } from '../helpers/conformance-route.js';

const NS = 'inference-conformance-app-backend';
const SELECT = 'test-epp-endpoint-selection';
const RESULT = 'x-conformance-test-served-endpoint';
// The suite's request body, whitespace and all: no pod lists this model.
const BODY = `{
            "model": "conformance-fake-model",
            "prompt": "Write as if you were a critic: San Francisco"
        }`;
const CONFIG_FILE = join(repoRoot(), 'deploy', 'conformance', 'endpoint-picker-config.yaml');

interface Pod {
  name: string;
  ip: string;
}

const primary: Pod[] = [0, 1, 2].map((i) => ({ name: `primary-inference-model-server-deployment-7d9f8-${i}`, ip: `127.0.190.${i + 2}` }));
const secondary: Pod[] = [0, 1, 2].map((i) => ({ name: `secondary-inference-model-server-deployment-5c4b2-${i}`, ip: `127.0.190.${i + 5}` }));
const dp: Pod[] = [0, 1, 2].map((i) => ({ name: `dp-inference-model-server-deployment-6f7a1-${i}`, ip: `127.0.191.${i + 2}` }));
const appProtocol: Pod[] = [0, 1, 2].map((i) => ({ name: `appprotocol-inference-model-server-deployment-8e2d3-${i}`, ip: `127.0.192.${i + 2}` }));

const echoes: EchoPod[] = [];
/** The port of the primary and secondary pods (the suite's 3000). */
let port = 0;
/** The data-parallel pods' three ranks (the suite's 3000, 3002, 3004). */
const dpPorts: number[] = [];
/** The appProtocol pods' HTTP/1.1 port and h2c port (the suite's 3000 and 3001). */
let httpPort = 0;
let h2cPort = 0;
let eppConfig: { text: string; file: string };

/** Starts one echo per pod on `ip`, all on one port (ephemeral for the first); returns that port. */
async function echoFleet(pods: Pod[], at: number, h2c = false): Promise<number> {
  let p = at;
  for (const pod of pods) {
    const e = await startEchoPod({ host: pod.ip, port: p, pod: pod.name, namespace: NS, h2c });
    echoes.push(e);
    p = e.port;
  }
  return p;
}

before(async () => {
  eppConfig = { text: await readFile(CONFIG_FILE, 'utf8'), file: CONFIG_FILE };
  port = await echoFleet([...primary, ...secondary], 0);
  for (let i = 0; i < 3; i++) dpPorts.push(await echoFleet(dp, 0));
  httpPort = await echoFleet(appProtocol, 0);
  h2cPort = await echoFleet(appProtocol, 0, true);
});

after(async () => {
  await Promise.all(echoes.map((e) => e.close()));
});

function pool(name: string, app: string, ports: number[], extra = ''): string {
  return `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: ${app}}}
  targetPorts: [${ports.map((p) => `{number: ${p}}`).join(', ')}]
${extra}`;
}

/** base.yaml's pods and pools, on this file's addresses and ports. */
function base(): string[] {
  const pods = (list: Pod[], app: string): string[] => list.map((p) => podYaml(p.name, p.ip, { app }, { namespace: NS }));
  return [
    ...pods(primary, 'primary-inference-model-server'),
    ...pods(secondary, 'secondary-inference-model-server'),
    ...pods(dp, 'dp-inference-model-server'),
    ...pods(appProtocol, 'appprotocol-inference-model-server'),
    pool('primary-inference-pool', 'primary-inference-model-server', [port], '  endpointPickerRef: {name: primary-endpoint-picker-svc, port: {number: 9002}}\n'),
    pool('secondary-inference-pool', 'secondary-inference-model-server', [port], '  endpointPickerRef: {name: secondary-endpoint-picker-svc, failureMode: FailOpen, port: {number: 9002}}\n'),
    pool('dp-inference-pool', 'dp-inference-model-server', dpPorts, '  endpointPickerRef: {name: dp-endpoint-picker-svc, port: {number: 9002}}\n'),
    pool('appprotocol-http-inference-pool', 'appprotocol-inference-model-server', [httpPort], '  appProtocol: http\n  endpointPickerRef: {name: appprotocol-http-endpoint-picker-svc, port: {number: 9002}}\n'),
    pool('appprotocol-h2c-inference-pool', 'appprotocol-inference-model-server', [h2cPort], '  appProtocol: kubernetes.io/h2c\n  endpointPickerRef: {name: appprotocol-h2c-endpoint-picker-svc, port: {number: 9002}}\n'),
  ];
}

/** The suite's route manifests (test/helpers/conformance-route.ts), in the app namespace. */
const route = (r: Omit<ConformanceRoute, 'namespace'>): string => conformanceRoute({ ...r, namespace: NS });

/** infergate, configured as the suite's EPP, serving `routes` over base.yaml; one Deployment for both Gateways. */
async function withGateway(routes: Omit<ConformanceRoute, 'namespace'>[], body: (gw: RunningGateway) => Promise<void>): Promise<void> {
  const cfg = await tempConfig({ 'all.yaml': [...base(), ...routes.map(route)].join('---\n') });
  const gw = await startTestGateway(cfg.dir, { host: '127.0.193.1', eppConfig, configEdits: { allowEmptyConfig: true } });
  try {
    await body(gw);
  } finally {
    await gw.close();
    await cfg.remove();
  }
}

interface Sent {
  host?: string;
  path: string;
  /** POST with the suite's body; else a GET without one, as the suite sends when a case names no method. */
  post?: boolean;
  select?: string;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  echo?: EchoAccount;
}

async function send(gw: RunningGateway, s: Sent): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (s.host !== undefined) headers.host = s.host;
  if (s.select !== undefined) headers[SELECT] = s.select;
  const res = await request(`${gw.url}${s.path}`, { method: s.post ? 'POST' : 'GET', headers, body: s.post ? BODY : null, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  const answer: Answer = { status: res.statusCode, headers: res.headers, text };
  if (res.statusCode === 200) answer.echo = JSON.parse(text) as EchoAccount;
  return answer;
}

/**
 * The suite's CompareRoundTrip for a 200: the pod saw the request as sent (Host when the suite set one, path,
 * method), in the suite's namespace, on a pod whose name starts with `backend`.
 */
function assertServed(a: Answer, s: Sent, backend: string): EchoAccount {
  assert.equal(a.status, 200, `${s.host ?? ''}${s.path}: ${a.text}`);
  const e = a.echo!;
  if (s.host !== undefined) assert.equal(e.host, s.host, 'the pod sees the Host the client sent');
  assert.equal(e.path, s.path);
  assert.equal(e.method, s.post ? 'POST' : 'GET');
  assert.equal(e.namespace, NS);
  assert.ok(e.pod.startsWith(backend), `served by ${e.pod}, expected ${backend}…`);
  return e;
}

/** Sends `s` `total` times, `concurrency` at a time; returns each answer's echo, all of them 200s. */
async function many(gw: RunningGateway, s: Sent, total: number, concurrency: number, backend: string): Promise<EchoAccount[]> {
  const out: EchoAccount[] = [];
  let left = total;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (left > 0) {
        left--;
        out.push(assertServed(await send(gw, s), s, backend));
      }
    }),
  );
  return out;
}

test('GatewayFollowingEPPRouting: pinned to one pod, then two, then all three, the suite\'s POSTs land only on the pods named', async () => {
  await withGateway([{ name: 'httproute-for-primary-gw', gateway: 'conformance-primary', hostnames: ['primary.example.com'], rules: [{ path: '/primary-gateway-test', refs: [{ pool: 'primary-inference-pool' }] }] }], async (gw) => {
    const sent = (select: string): Sent => ({ host: 'primary.example.com', path: '/primary-gateway-test', post: true, select });
    for (const p of primary) assert.equal(assertServed(await send(gw, sent(p.ip)), sent(p.ip), p.name).pod, p.name);
    for (const pick of [[primary[2]!], [primary[0]!, primary[1]!], primary]) {
      const names = new Set(pick.map((p) => p.name));
      const seen = await many(gw, sent(pick.map((p) => p.ip).join(',')), 30, 10, 'primary-inference-model-server');
      for (const e of seen) assert.ok(names.has(e.pod), `${e.pod} was not named`);
    }
  });
});

test('GatewayFollowingEPPRoutingWithDataParallelism: a bare IP keeps every rank of its pod, ip:port only that rank', async () => {
  await withGateway([{ name: 'httproute-for-primary-gw-dp', gateway: 'conformance-primary', hostnames: ['primary.example.com'], rules: [{ path: '/primary-gateway-dp-test', refs: [{ pool: 'dp-inference-pool' }] }] }], async (gw) => {
    const sent = (select: string): Sent => ({ host: 'primary.example.com', path: '/primary-gateway-dp-test', post: true, select });
    const [p0, p1, p2] = dp as [Pod, Pod, Pod];
    const [r0, r1, r2] = dpPorts as [number, number, number];
    const cases: { select: string; allowed: Map<string, number[]> }[] = [
      { select: p1.ip, allowed: new Map([[p1.name, dpPorts]]) },
      { select: `${p0.ip},${p2.ip}:${r1}`, allowed: new Map([[p0.name, dpPorts], [p2.name, [r1]]]) },
      { select: `${p0.ip},${p1.ip}:${r0},${p1.ip}:${r2},${p2.ip}`, allowed: new Map([[p0.name, dpPorts], [p1.name, [r0, r2]], [p2.name, dpPorts]]) },
    ];
    for (const c of cases) {
      for (const e of await many(gw, sent(c.select), 30, 10, 'dp-inference-model-server')) {
        const ports = c.allowed.get(e.pod);
        assert.ok(ports, `${e.pod} was not named by ${c.select}`);
        assert.ok(ports.includes(Number(e.httpPort)), `${e.pod} answered on port ${e.httpPort}, allowed ${ports.join(', ')}`);
      }
    }
  });
});

test('GatewayWeightedAcrossTwoInferencePools: 70/30 across two pools over 200 requests, each on a pod of the pool chosen', async () => {
  await withGateway([{ name: 'httproute-weighted-two-pools', gateway: 'conformance-primary', hostnames: ['primary.example.com'], rules: [{ path: '/weighted-two-pools-test', refs: [{ pool: 'primary-inference-pool', weight: 70 }, { pool: 'secondary-inference-pool', weight: 30 }] }] }], async (gw) => {
    // The suite names every pod of both pools; each pool keeps its own.
    const s: Sent = { host: 'primary.example.com', path: '/weighted-two-pools-test', post: true, select: [...primary, ...secondary].map((p) => p.ip).join(',') };
    const seen = await many(gw, s, 200, 5, '');
    const primaryHits = seen.filter((e) => primary.some((p) => p.name === e.pod)).length;
    const secondaryHits = seen.filter((e) => secondary.some((p) => p.name === e.pod)).length;
    assert.equal(primaryHits + secondaryHits, 200);
    const tolerance = Math.max(0.1, 4.5 * Math.sqrt((0.7 * 0.3) / 200));
    assert.ok(Math.abs(primaryHits / 200 - 0.7) <= tolerance, `primary share ${primaryHits / 200}`);
  });
});

test('GatewayDestinationEndpointServed and EppUnAvailableFailOpen (EPP available): the pinned pod serves and x-conformance-test-served-endpoint is its ip:port', async () => {
  await withGateway(
    [
      { name: 'httproute-for-destination-endpoint-served', gateway: 'conformance-primary', hostnames: ['primary.example.com'], rules: [{ path: '/destination-endpoint-served-test', refs: [{ pool: 'primary-inference-pool' }] }] },
      { name: 'httproute-for-failopen-pool-gw', gateway: 'conformance-secondary', hostnames: ['secondary.example.com'], rules: [{ path: '/failopen-pool-test', refs: [{ pool: 'secondary-inference-pool' }] }] },
    ],
    async (gw) => {
      for (const p of primary) {
        const s: Sent = { host: 'primary.example.com', path: '/destination-endpoint-served-test', post: true, select: p.ip };
        const a = await send(gw, s);
        assertServed(a, s, p.name);
        assert.equal(a.headers[RESULT], `${p.ip}:${port}`);
      }
      const s: Sent = { host: 'secondary.example.com', path: '/failopen-pool-test', post: true, select: secondary[0]!.ip };
      assertServed(await send(gw, s), s, secondary[0]!.name);
    },
  );
});

test('InferencePoolAppProtocol: h2c, http and omitted appProtocol, each pod pinned by ip:port, served there and reported so', async () => {
  await withGateway(
    [
      { name: 'httproute-for-inferencepool-appprotocol-h2c', gateway: 'conformance-primary', hostnames: ['appprotocol-h2c.example.com'], rules: [{ path: '/inferencepool-app-protocol-h2c', refs: [{ pool: 'appprotocol-h2c-inference-pool' }] }] },
      { name: 'httproute-for-inferencepool-appprotocol-http', gateway: 'conformance-primary', hostnames: ['appprotocol-http.example.com'], rules: [{ path: '/inferencepool-app-protocol-http', refs: [{ pool: 'appprotocol-http-inference-pool' }] }] },
      { name: 'httproute-for-inferencepool-appprotocol-default', gateway: 'conformance-primary', hostnames: ['appprotocol-default.example.com'], rules: [{ path: '/inferencepool-app-protocol-default', refs: [{ pool: 'primary-inference-pool' }] }] },
    ],
    async (gw) => {
      const cases: [string, string, Pod[], number][] = [
        ['appprotocol-h2c.example.com', '/inferencepool-app-protocol-h2c', appProtocol, h2cPort],
        ['appprotocol-http.example.com', '/inferencepool-app-protocol-http', appProtocol, httpPort],
        ['appprotocol-default.example.com', '/inferencepool-app-protocol-default', primary, port],
      ];
      for (const [host, path, pods, p] of cases) {
        for (const pod of pods) {
          const s: Sent = { host, path, post: true, select: `${pod.ip}:${p}` };
          const a = await send(gw, s);
          assertServed(a, s, pod.name);
          assert.equal(a.headers[RESULT], `${pod.ip}:${p}`);
        }
      }
    },
  );
});

test('HTTPRouteMultipleGatewaysDifferentPools, HTTPRouteMultipleRulesDifferentPools and InferencePoolHTTPRoutePortValidation: the suite\'s GETs, without body or header', async () => {
  await withGateway(
    [
      { name: 'route-for-primary-gateway', gateway: 'conformance-primary', bareParent: true, hostnames: ['primary.example.com'], rules: [{ path: '/test-primary-gateway', refs: [{ pool: 'primary-inference-pool' }] }] },
      { name: 'route-for-secondary-gateway', gateway: 'conformance-secondary', bareParent: true, hostnames: ['secondary.example.com'], rules: [{ path: '/test-secondary-gateway', refs: [{ pool: 'secondary-inference-pool' }] }] },
      { name: 'httproute-multiple-rules-different-pools', gateway: 'conformance-primary', bareParent: true, rules: [{ path: '/primary', refs: [{ pool: 'primary-inference-pool' }] }, { path: '/secondary', refs: [{ pool: 'secondary-inference-pool' }] }] },
      { name: 'httproute-pool-port-unspecified', gateway: 'conformance-primary', hostnames: ['port-unspecified.example.com'], rules: [{ path: '/test-port-unspecified', refs: [{ pool: 'primary-inference-pool' }] }] },
      { name: 'httproute-pool-port-matching', gateway: 'conformance-primary', hostnames: ['port-matching.example.com'], rules: [{ path: '/test-port-matching', refs: [{ pool: 'primary-inference-pool', port }] }] },
      { name: 'httproute-pool-port-non-matching', gateway: 'conformance-primary', hostnames: ['port-non-matching.example.com'], rules: [{ path: '/test-port-non-matching', refs: [{ pool: 'primary-inference-pool', port: 8888 }] }] },
    ],
    async (gw) => {
      const cases: [Sent, string][] = [
        [{ host: 'primary.example.com', path: '/test-primary-gateway' }, 'primary-inference-model-server'],
        [{ host: 'secondary.example.com', path: '/test-secondary-gateway' }, 'secondary-inference-model-server'],
        [{ path: '/primary' }, 'primary-inference-model-server'],
        [{ path: '/secondary' }, 'secondary-inference-model-server'],
        [{ host: 'port-unspecified.example.com', path: '/test-port-unspecified' }, 'primary-inference-model-server-deployment'],
        [{ host: 'port-matching.example.com', path: '/test-port-matching' }, 'primary-inference-model-server-deployment'],
        [{ host: 'port-non-matching.example.com', path: '/test-port-non-matching' }, 'primary-inference-model-server-deployment'],
      ];
      for (const [s, backend] of cases) assertServed(await send(gw, s), s, backend);
    },
  );
});

test('InferencePoolResolvedRefsCondition (routing): one pool behind two Gateways\' routes; each route deleted stops its Gateway serving it (404)', async () => {
  const primaryRoute: Omit<ConformanceRoute, 'namespace'> = { name: 'httproute-for-primary-gw', gateway: 'conformance-primary', hostnames: ['primary.example.com'], rules: [{ path: '/primary-gateway-test', refs: [{ pool: 'primary-inference-pool' }] }] };
  const secondaryRoute: Omit<ConformanceRoute, 'namespace'> = { name: 'httproute-for-secondary-gw', gateway: 'conformance-secondary', hostnames: ['secondary.example.com'], rules: [{ path: '/secondary-gateway-test', refs: [{ pool: 'primary-inference-pool' }] }] };
  const cfg = await tempConfig({ 'all.yaml': [...base(), route(primaryRoute), route(secondaryRoute)].join('---\n') });
  const gw = await startTestGateway(cfg.dir, { host: '127.0.193.1', eppConfig, configEdits: { allowEmptyConfig: true } });
  const toPrimary: Sent = { host: 'primary.example.com', path: '/primary-gateway-test' };
  const toSecondary: Sent = { host: 'secondary.example.com', path: '/secondary-gateway-test' };
  try {
    assertServed(await send(gw, toPrimary), toPrimary, 'primary-inference-model-server-deployment');
    assertServed(await send(gw, toSecondary), toSecondary, 'primary-inference-model-server-deployment');
    await cfg.write('all.yaml', [...base(), route(secondaryRoute)].join('---\n'));
    assert.ok(await waitFor(async () => (await send(gw, toPrimary)).status === 404, 10_000), 'the deleted route is not served');
    assertServed(await send(gw, toSecondary), toSecondary, 'primary-inference-model-server-deployment');
    await cfg.write('all.yaml', base().join('---\n'));
    assert.ok(await waitFor(async () => (await send(gw, toSecondary)).status === 404, 10_000), 'no route left: 404');
  } finally {
    await gw.close();
    await cfg.remove();
  }
});
