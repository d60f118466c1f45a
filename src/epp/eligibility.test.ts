/** eligibleEndpoints: model-aware filtering, already-tried, backoff and ejection exclusion, and the 503 that names why. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from '../api/pod.js';
import { inferencePool, pod } from '../api/test-fixtures.js';
import { snapshot } from '../config/test-fixtures.js';
import type { PoolView } from './datastore/datastore.js';
import { Datastore } from './datastore/datastore.js';
import type { Endpoint } from './datastore/endpoint.js';
import { NoEndpointError, eligibleEndpoints, judgeCandidates } from './eligibility.js';
import { UNREPORTED_GRACE_MS, metricsScrapeStarted, metricsScraped, requestSent } from '../upstream/in-flight.js';

const NOW = 1_000_000;

/** A gemma pool over these pods (port 8000); `ep(ip)` finds an endpoint to set its state. */
function poolOf(...pods: Pod[]): { view: PoolView; ep: (ip: string) => Endpoint } {
  const ds = new Datastore();
  ds.apply(snapshot(inferencePool('gemma').selects({ app: 'gemma' }), ...pods));
  const view = ds.pool('default/gemma')!;
  return {
    view,
    ep: (ip) => {
      const e = ds.endpoint(`${ip}:8000`);
      assert.ok(e, `no endpoint ${ip}:8000`);
      return e;
    },
  };
}

const ready = (name: string, ip: string): Pod => pod(name).labels({ app: 'gemma' }).ip(ip).ready();


type Setup = (ep: (ip: string) => Endpoint) => void;
const serve =
  (ip: string, ...models: string[]): Setup =>
  (ep) =>
    ep(ip).setModels(
      models.map((id) => ({ id, parent: null })),
      NOW,
    );
const load =
  (ip: string, inFlight: number): Setup =>
  (ep) => {
    ep(ip).inFlight = inFlight;
  };
const backoff =
  (ip: string, untilFromNow: number): Setup =>
  (ep) => {
    ep(ip).backoffUntil = NOW + untilFromNow;
  };

const eject =
  (ip: string, untilFromNow: number): Setup =>
  (ep) => {
    const o = ep(ip).outlier;
    o.ejectedUntil = NOW + untilFromNow;
    o.multiplier = 2;
    o.ejection = { type: 'consecutive_gateway_failure', detail: '3 gateway failures in a row; last: UND_ERR_HEADERS_TIMEOUT', at: NOW - 1000, until: o.ejectedUntil, multiplier: 2 };
  };

/** `ip` looks idle at its last scrape while holding `n` requests sent before it (a hung pod). */
const holds =
  (ip: string, n: number): Setup =>
  (ep) => {
    const e = ep(ip);
    e.metrics = { waitingQueueSize: 0, runningQueueSize: 0, kvCacheUsagePercent: 0, runningLoras: [], waitingLoras: [], maxLoras: 0, updatedAt: NOW };
    for (let i = 0; i < n; i++) requestSent(e);
    // Two scrapes a grace apart: the requests are old enough to be held against it.
    for (const t of [NOW - UNREPORTED_GRACE_MS, NOW]) {
      metricsScrapeStarted(e, t);
      metricsScraped(e);
    }
  };

describe('eligibleEndpoints', () => {
  const pods = [ready('a', '10.0.0.1'), ready('b', '10.0.0.2'), ready('c', '10.0.0.3')];
  const cases: { name: string; model: string | undefined; setup: Setup[]; exclude?: string[]; eligible: string[]; verdicts?: Record<string, RegExp | undefined> }[] = [
    {
      name: 'only endpoints serving the model',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'llama'), serve('10.0.0.2', 'gemma'), serve('10.0.0.3', 'llama', 'gemma-lora'), load('10.0.0.2', 5)],
      eligible: ['10.0.0.2:8000'],
      verdicts: { '10.0.0.1:8000': /^does not serve `gemma` \(serves llama\)$/, '10.0.0.2:8000': undefined, '10.0.0.3:8000': /does not serve `gemma` \(serves llama, gemma-lora\)/ },
    },
    {
      name: 'endpoints that have not listed their models are excluded, with the discovery error',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), load('10.0.0.1', 9), (ep) => (ep('10.0.0.2').modelsError = 'GET http://10.0.0.2:8000/v1/models failed: ECONNREFUSED')],
      eligible: ['10.0.0.1:8000'],
      verdicts: { '10.0.0.2:8000': /^has not answered GET \/v1\/models yet \(GET .* ECONNREFUSED\)$/, '10.0.0.3:8000': /^has not answered GET \/v1\/models yet$/ },
    },
    {
      name: 'an endpoint serving nothing says so',
      model: 'gemma',
      setup: [serve('10.0.0.1'), serve('10.0.0.2', 'gemma'), serve('10.0.0.3', 'gemma'), load('10.0.0.3', 1)],
      eligible: ['10.0.0.2:8000', '10.0.0.3:8000'],
      verdicts: { '10.0.0.1:8000': /serves nothing/ },
    },
    {
      name: 'an endpoint that answers GET /v1/models without a list (not a model server: GIE\'s conformance echo pods) takes any model',
      model: 'conformance-fake-model',
      setup: [serve('10.0.0.1', 'llama'), (ep) => (ep('10.0.0.2').modelsUnlisted = true)],
      eligible: ['10.0.0.2:8000'],
      verdicts: { '10.0.0.1:8000': /^does not serve `conformance-fake-model` \(serves llama\)$/, '10.0.0.2:8000': undefined, '10.0.0.3:8000': /^has not answered GET \/v1\/models yet$/ },
    },
    {
      name: 'without a model every endpoint is a candidate, known models or not',
      model: undefined,
      setup: [serve('10.0.0.1', 'llama'), load('10.0.0.1', 2), load('10.0.0.2', 1)],
      eligible: ['10.0.0.1:8000', '10.0.0.2:8000', '10.0.0.3:8000'],
    },
    {
      name: 'already tried is never picked again',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), load('10.0.0.2', 7)],
      exclude: ['10.0.0.1:8000'],
      eligible: ['10.0.0.2:8000'],
      verdicts: { '10.0.0.1:8000': /^already tried by this request$/ },
    },
    {
      name: 'an endpoint in backoff is held out while another serves',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), backoff('10.0.0.1', 2500), load('10.0.0.2', 10)],
      eligible: ['10.0.0.2:8000'],
      verdicts: { '10.0.0.1:8000': /^held out for 2500 ms after a connection failure$/ },
    },
    {
      name: 'when every serving endpoint is in backoff, the one whose backoff ends first',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), serve('10.0.0.3', 'llama'), backoff('10.0.0.1', 4000), backoff('10.0.0.2', 1000), load('10.0.0.2', 3)],
      eligible: ['10.0.0.2:8000'],
      verdicts: { '10.0.0.1:8000': /held out for 4000 ms/, '10.0.0.2:8000': undefined, '10.0.0.3:8000': /does not serve/ },
    },
    {
      name: 'a non-serving endpoint is never the backoff fallback',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'llama'), backoff('10.0.0.1', 30000)],
      eligible: ['10.0.0.1:8000'],
    },
    {
      name: 'after failover, a backed-off endpoint is still better than nothing',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), backoff('10.0.0.2', 1000)],
      exclude: ['10.0.0.1:8000'],
      eligible: ['10.0.0.2:8000'],
    },
    {
      name: 'an endpoint ejected by outlier detection is left out, saying why and for how long',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), eject('10.0.0.1', 29_500)],
      eligible: ['10.0.0.2:8000'],
      verdicts: { '10.0.0.1:8000': /^ejected by outlier detection for 29\.5 s more \(consecutive_gateway_failure: 3 gateway failures in a row; last: UND_ERR_HEADERS_TIMEOUT; ejection 2 in a row\)$/ },
    },
    {
      name: 'every serving endpoint ejected: all of them are candidates again (panic routing)',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), serve('10.0.0.3', 'llama'), eject('10.0.0.1', 10_000), eject('10.0.0.2', 20_000)],
      eligible: ['10.0.0.1:8000', '10.0.0.2:8000'],
      verdicts: { '10.0.0.1:8000': undefined, '10.0.0.3:8000': /does not serve/ },
    },
    {
      name: 'ejected and backed-off only: the ejected one, not the backoff fallback',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), eject('10.0.0.1', 10_000), backoff('10.0.0.2', 500)],
      eligible: ['10.0.0.1:8000'],
    },
    {
      name: 'after failover, an ejected endpoint is still better than nothing',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), eject('10.0.0.2', 10_000)],
      exclude: ['10.0.0.1:8000'],
      eligible: ['10.0.0.2:8000'],
    },
    {
      name: 'an idle-looking endpoint holding requests it does not count is left out, saying so',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), holds('10.0.0.1', 2)],
      eligible: ['10.0.0.2:8000'],
      verdicts: { '10.0.0.1:8000': /^holds 2 request\(s\), sent at least 500 ms before its last \/metrics scrape, that it has not answered and does not count \(it reports running 0, waiting 0\)$/ },
    },
    {
      name: 'every serving endpoint ejected or unresponsive: all of them are candidates again',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), holds('10.0.0.1', 1), eject('10.0.0.2', 5000)],
      eligible: ['10.0.0.1:8000', '10.0.0.2:8000'],
    },
    {
      name: 'an ejection that has ended does not count',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), eject('10.0.0.1', 0)],
      eligible: ['10.0.0.1:8000', '10.0.0.2:8000'],
    },
    {
      name: 'a backoff that has ended does not count',
      model: 'gemma',
      setup: [serve('10.0.0.1', 'gemma'), serve('10.0.0.2', 'gemma'), backoff('10.0.0.1', 0), load('10.0.0.2', 1)],
      eligible: ['10.0.0.1:8000', '10.0.0.2:8000'],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const { view, ep } = poolOf(...pods);
      for (const s of c.setup) s(ep);
      const req = { model: c.model, now: NOW, ...(c.exclude ? { exclude: new Set(c.exclude) } : {}) };
      assert.deepEqual(eligibleEndpoints(view, req).map((e) => e.address), c.eligible);
      const verdicts = judgeCandidates(view, req, NOW);
      assert.deepEqual(verdicts.map((v) => v.address), ['10.0.0.1:8000', '10.0.0.2:8000', '10.0.0.3:8000']);
      for (const [address, want] of Object.entries(c.verdicts ?? {})) {
        const v = verdicts.find((x) => x.address === address)!;
        // The backoff fallback is eligible though its verdict says it is held out.
        if (want === undefined) assert.ok(v.excluded === undefined || c.eligible.includes(address), address);
        else assert.match(v.excluded ?? '', want, address);
      }
    });
  }

  test('nothing excluded: the pool\'s own array is returned (no allocation on the hot path)', () => {
    const { view, ep } = poolOf(...pods);
    for (const ip of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) serve(ip, 'gemma')(ep);
    assert.equal(eligibleEndpoints(view, { model: 'gemma', now: NOW }), view.endpoints);
  });
});

describe('eligibleEndpoints: nothing eligible', () => {
  // `retry`: the advice the 503 carries (retry-after seconds, false for x-should-retry: false, undefined for none).
  const cases: { name: string; pods: Pod[]; setup: Setup[]; model: string | undefined; exclude?: string[]; discovery?: false; message: RegExp[]; retry?: number | false }[] = [
    {
      name: 'no endpoint serves the model; unready pods are named, and may still serve it: retry-after',
      pods: [ready('a', '10.0.0.1'), pod('b').labels({ app: 'gemma' }).ip('10.0.0.2').notReady(), pod('c').labels({ app: 'gemma' }).ready()],
      setup: [serve('10.0.0.1', 'llama')],
      model: 'gemma',
      message: [
        /^no endpoint of InferencePool default\/gemma can take model `gemma`: /,
        /pod default\/b: pod is not Ready/,
        /pod default\/c: pod has no status\.podIP/,
        /10\.0\.0\.1:8000 \(pod default\/a\): does not serve `gemma` \(serves llama\)/,
        /Retry shortly: pods of the pool are still starting/,
      ],
      retry: 1,
    },
    {
      name: 'every pod has said what it serves and none serves the model: a retry cannot help, and the message says so',
      pods: [ready('a', '10.0.0.1'), ready('b', '10.0.0.2')],
      setup: [serve('10.0.0.1', 'llama'), serve('10.0.0.2', 'llama', 'llama-lora')],
      model: 'gemma-sql-lora',
      message: [/^no pod of InferencePool default\/gemma serves model `gemma-sql-lora`, so a retry will not help/, /10\.0\.0\.2:8000 \(pod default\/b\): does not serve `gemma-sql-lora` \(serves llama, llama-lora\)/],
      retry: false,
    },
    {
      name: 'an endpoint that has not answered GET /v1/models yet may serve it: retry-after',
      pods: [ready('a', '10.0.0.1'), ready('b', '10.0.0.2')],
      setup: [serve('10.0.0.1', 'llama')],
      model: 'gemma',
      message: [/10\.0\.0\.2:8000 \(pod default\/b\): has not answered GET \/v1\/models yet/],
      retry: 1,
    },
    {
      name: 'discovery off (explain --no-discover): no endpoint will ever answer, so the message says so and advises no retry',
      pods: [ready('a', '10.0.0.1'), pod('b').labels({ app: 'gemma' }).ip('10.0.0.2').notReady()],
      setup: [],
      model: 'gemma',
      discovery: false,
      message: [
        /10\.0\.0\.1:8000 \(pod default\/a\): has not answered GET \/v1\/models yet/,
        /\. Discovery is off \(--no-discover\): no pod is asked GET \/v1\/models, so models come from allowlist ConfigMaps only and no endpoint is known to serve one$/,
      ],
    },
    {
      name: 'every endpoint already tried',
      pods: [ready('a', '10.0.0.1')],
      setup: [serve('10.0.0.1', 'gemma')],
      model: 'gemma',
      exclude: ['10.0.0.1:8000'],
      message: [/InferencePool default\/gemma/, /10\.0\.0\.1:8000 \(pod default\/a\): already tried by this request/],
    },
    {
      name: 'every pod not Ready',
      pods: [pod('a').labels({ app: 'gemma' }).ip('10.0.0.1').notReady()],
      setup: [],
      model: undefined,
      message: [/^no endpoint of InferencePool default\/gemma can take this request: pod default\/a: pod is not Ready\. Retry shortly/],
      retry: 1,
    },
    {
      name: "a pod refusing the gateway's API key is left out, even with the models it listed before; the 503 names the 401",
      pods: [ready('a', '10.0.0.1')],
      setup: [
        serve('10.0.0.1', 'gemma'),
        (ep) => {
          ep('10.0.0.1').modelsRefused = 401;
          ep('10.0.0.1').modelsError = 'GET http://10.0.0.1:8000/v1/models answered 401 Unauthorized: the pod requires an API key';
        },
      ],
      model: 'gemma',
      message: [/10\.0\.0\.1:8000 \(pod default\/a\): GET http:\/\/10\.0\.0\.1:8000\/v1\/models answered 401 Unauthorized: the pod requires an API key/],
    },
    {
      name: 'the pool selects no pods',
      pods: [pod('x').labels({ app: 'llama' }).ip('10.0.0.1').ready()],
      setup: [],
      model: 'gemma',
      message: [/the pool selects no pods \(selector \{"app":"gemma"\} in namespace default\)/],
    },
  ];
  for (const c of cases) {
    test(`${c.name} -> 503`, () => {
      const { view, ep } = poolOf(...c.pods);
      for (const s of c.setup) s(ep);
      assert.throws(
        () => eligibleEndpoints(view, { model: c.model, now: NOW, ...(c.exclude ? { exclude: new Set(c.exclude) } : {}), ...(c.discovery === false ? { discovery: false } : {}) }),
        (e: unknown) => {
          assert.ok(e instanceof NoEndpointError);
          assert.equal(e.status, 503);
          assert.equal(e.code, 'no_healthy_endpoint');
          for (const m of c.message) assert.match(e.message, m);
          assert.equal(e.retry, c.retry);
          assert.equal(e.candidates.length, view.endpoints.length);
          return true;
        },
      );
    });
  }
});
