/**
 * Issue #13 parts 1 and 2 in file mode. Pinned picks through GIE's testing filter, configured by
 * deploy/conformance/endpoint-picker-config.yaml as the conformance EPP is: the `test-epp-endpoint-selection`
 * header (ip, ip:port, several) decides which pod serves, across pods and across the data-parallel ranks of one
 * pod (GatewayFollowingEPPRouting[WithDataParallelism]). Then `endpointPickerRef.failureMode` when infergate's
 * picker fails (FailOpen routes anyway, FailClose answers 503), and a ref to another picker under
 * --epp-service-name (an external picker: test/e2e/external-endpoint-picker.test.ts calls one). Kubernetes mode:
 * endpoint-picker-ref-kube.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import OpenAI from 'openai';
import { startSimulator, type RunningSimulator } from '../../src/sim/simulator.js';
import { baseModelRouteYaml, podYaml, prefixRouteYaml, startFleet, startTestGateway, tempConfig } from '../helpers/fleet.js';
import { createLogger } from '../../src/logger.js';
import { repoRoot } from '../helpers/local-kube.js';
import { failure } from '../helpers/openai-failure.js';

const MODEL = 'conformance-fake-model';
const HEADER = 'test-epp-endpoint-selection';
const SERVED = 'x-gateway-destination-endpoint-served';
const CONFIG_FILE = join(repoRoot(), 'deploy', 'conformance', 'endpoint-picker-config.yaml');

async function conformanceConfig(): Promise<{ text: string; file: string }> {
  return { text: await readFile(CONFIG_FILE, 'utf8'), file: CONFIG_FILE };
}

/** `n` completions with `header`; the endpoints that served them (x-gateway-destination-endpoint-served). */
async function servedBy(client: OpenAI, header: string, n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const { response } = await client.completions.create({ model: MODEL, prompt: `Write as if you were a critic: San Francisco ${i}`, max_tokens: 1 }, { headers: { [HEADER]: header } }).withResponse();
    out.push(response.headers.get(SERVED) ?? '(none)');
  }
  return out;
}

test('the header pins each request to the pod it names, by ip and ip:port, one or several; no header (or no match) is a clear 503', async () => {
  const fleet = await startFleet(84, ['p-0', 'p-1', 'p-2'].map((name) => ({ name, labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 })));
  const addr = (name: string): string => `${fleet.ipOf(name)}:${fleet.port}`;
  const cfg = await tempConfig({
    'all.yaml': [
      ...['p-0', 'p-1', 'p-2'].map((n) => podYaml(n, fleet.ipOf(n), { app: 'primary' })),
      `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: primary-inference-pool}
spec:
  selector: {matchLabels: {app: primary}}
  targetPorts: [{number: ${fleet.port}}]
  endpointPickerRef: {name: primary-endpoint-picker-svc, port: {number: 9002}}
`,
      prefixRouteYaml('primary', '/', 'primary-inference-pool'),
    ].join('---\n'),
  });
  const gw = await startTestGateway(cfg.dir, { eppConfig: await conformanceConfig() });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    for (const pod of ['p-0', 'p-1', 'p-2']) {
      assert.deepEqual(new Set(await servedBy(client, fleet.ipOf(pod), 5)), new Set([addr(pod)]), `ip of ${pod}`);
      assert.deepEqual(new Set(await servedBy(client, addr(pod), 3)), new Set([addr(pod)]), `ip:port of ${pod}`);
    }
    // Several: only those, and (picked at random among them) each of them.
    const two = await servedBy(client, `${fleet.ipOf('p-0')}, ${addr('p-2')}`, 24);
    assert.deepEqual(new Set(two), new Set([addr('p-0'), addr('p-2')]));

    const none = await failure(client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1 }));
    assert.equal(none.status, 503);
    assert.equal(none.code, 'no_healthy_endpoint');
    assert.match(none.message, /filter header-based-testing-filter \(header-based-testing-filter\) of scheduling profile conformance-profile removed every candidate: the request has no test-epp-endpoint-selection header/);
    const unknown = await failure(client.completions.create({ model: MODEL, prompt: 'x', max_tokens: 1 }, { headers: { [HEADER]: '127.0.84.99' } }));
    assert.equal(unknown.status, 503);
    assert.match(unknown.message, /header test-epp-endpoint-selection: 127\.0\.84\.99 names no candidate endpoint/);

    // A GET without a body and without the header goes to any pod, as GIE's EPP sends body-less requests.
    const get = await fetch(`${gw.url}/health`);
    assert.equal(get.status, 200);
    assert.ok(['p-0', 'p-1', 'p-2'].map(addr).includes(get.headers.get(SERVED) ?? ''));
  } finally {
    await gw.close();
    await fleet.close();
    await cfg.remove();
  }
});

test('data parallelism: a bare IP keeps every rank of that pod, ip:port only those ranks (three ranks per pod)', async () => {
  // Two pods on 127.0.85.2 and .3, each serving three ranks on the same three ports.
  const sims: RunningSimulator[] = [];
  const ports: number[] = [];
  try {
    for (let rank = 0; rank < 3; rank++) {
      for (const [i, host] of ['127.0.85.2', '127.0.85.3'].entries()) {
        const sim = await startSimulator({ model: MODEL, host, port: ports[rank] ?? 0, podName: `dp-${i}`, ttftMs: 0, itlMs: 1 });
        ports[rank] ??= sim.port;
        sims.push(sim);
      }
    }
    const cfg = await tempConfig({
      'all.yaml': [
        podYaml('dp-0', '127.0.85.2', { app: 'dp' }),
        podYaml('dp-1', '127.0.85.3', { app: 'dp' }),
        `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: dp-inference-pool}
spec:
  selector: {matchLabels: {app: dp}}
  targetPorts: [${ports.map((p) => `{number: ${p}}`).join(', ')}]
  endpointPickerRef: {name: dp-endpoint-picker-svc, port: {number: 9002}}
`,
        prefixRouteYaml('dp', '/', 'dp-inference-pool'),
      ].join('---\n'),
    });
    const gw = await startTestGateway(cfg.dir, { eppConfig: await conformanceConfig() });
    try {
      const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
      const [r0, r1, r2] = ports as [number, number, number];
      const anyRank = await servedBy(client, '127.0.85.3', 30);
      assert.deepEqual(new Set(anyRank), new Set(ports.map((p) => `127.0.85.3:${p}`)), 'one pod, every one of its ranks');
      const twoRanks = await servedBy(client, `127.0.85.2:${r0},127.0.85.2:${r2}`, 20);
      assert.deepEqual(new Set(twoRanks), new Set([`127.0.85.2:${r0}`, `127.0.85.2:${r2}`]));
      const mixed = await servedBy(client, `127.0.85.2,127.0.85.3:${r1}`, 40);
      assert.ok(
        mixed.every((a) => a.startsWith('127.0.85.2:') || a === `127.0.85.3:${r1}`),
        `only pod dp-0 (any rank) or rank ${r1} of dp-1: ${[...new Set(mixed)].join(', ')}`,
      );
      assert.ok(mixed.includes(`127.0.85.3:${r1}`));
    } finally {
      await gw.close();
      await cfg.remove();
    }
  } finally {
    await Promise.all(sims.map((s) => s.close()));
  }
});

/** Two pools of two pods each on 127.0.84.x, one per model, whose refs name `open-epp` (FailOpen) and `closed-epp` (FailClose). */
async function twoPools(extra: Parameters<typeof startTestGateway>[1] = {}) {
  const fleet = await startFleet(84, [
    { name: 'open-0', labels: {}, model: 'model/open', ttftMs: 0, itlMs: 1 },
    { name: 'open-1', labels: {}, model: 'model/open', ttftMs: 0, itlMs: 1 },
    { name: 'closed-0', labels: {}, model: 'model/closed', ttftMs: 0, itlMs: 1 },
    { name: 'closed-1', labels: {}, model: 'model/closed', ttftMs: 0, itlMs: 1 },
  ]);
  const pool = (name: string, mode: string): string => `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: ${name}}
spec:
  selector: {matchLabels: {pool: ${name}}}
  targetPorts: [{number: ${fleet.port}}]
  endpointPickerRef: {name: ${name}-epp, port: {number: 9002}, failureMode: ${mode}}
`;
  const cfg = await tempConfig({
    'all.yaml': [
      ...['open-0', 'open-1'].map((n) => podYaml(n, fleet.ipOf(n), { pool: 'open' })),
      ...['closed-0', 'closed-1'].map((n) => podYaml(n, fleet.ipOf(n), { pool: 'closed' })),
      pool('open', 'FailOpen'),
      pool('closed', 'FailClose'),
      baseModelRouteYaml('open', 'model/open', [['open', 1]]),
      baseModelRouteYaml('closed', 'model/closed', [['closed', 1]]),
    ].join('---\n'),
  });
  const lines: string[] = [];
  const gw = await startTestGateway(cfg.dir, { log: createLogger('info', (l) => lines.push(l)), ...extra });
  const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  return {
    gw,
    client,
    lines,
    pod: async (model: string): Promise<string> => {
      const { response } = await client.completions.create({ model, prompt: 'hello', max_tokens: 1 }).withResponse();
      return response.headers.get('x-inference-pod') ?? '(none)';
    },
    close: async () => {
      await gw.close();
      await fleet.close();
      await cfg.remove();
    },
  };
}

test('failureMode: with the picker failing, FailOpen still routes to a ready pod of its pool and FailClose answers 503; both recover with it', async () => {
  const t = await twoPools();
  try {
    assert.match(await t.pod('model/open'), /^open-/);
    assert.match(await t.pod('model/closed'), /^closed-/);
    // The picker becomes unavailable: its scheduler throws (as a plugin bug would).
    const broken = ['default/open', 'default/closed'].map((k) => t.gw.gateway.schedulers.forPool(k)!.scheduler);
    for (const s of broken) {
      s.schedule = () => {
        throw new Error('scorer state corrupt');
      };
    }
    const served = new Set<string>();
    for (let i = 0; i < 16; i++) served.add(await t.pod('model/open'));
    assert.deepEqual([...served].sort(), ['open-0', 'open-1'], 'FailOpen: any ready pod of the pool, never another pool\'s');
    const closed = await failure(t.client.completions.create({ model: 'model/closed', prompt: 'hello', max_tokens: 1 }));
    assert.equal(closed.status, 503);
    assert.equal(closed.code, 'endpoint_picker_unavailable');
    assert.match(closed.message, /the endpoint picker of InferencePool default\/closed failed \(scorer state corrupt\).*failureMode is FailClose.*failureMode: FailOpen/);
    // Logged, once per pool however many requests failed (at most every 10 s).
    const logged = t.lines.filter((l) => l.includes('the endpoint picker of InferencePool'));
    assert.equal(logged.filter((l) => l.includes('default/open') && l.includes('FailOpen')).length, 1, logged.join('\n'));
    assert.equal(logged.filter((l) => l.includes('default/closed') && l.includes('FailClose')).length, 1, logged.join('\n'));

    for (const s of broken) delete (s as { schedule?: unknown }).schedule; // the prototype's again
    assert.match(await t.pod('model/closed'), /^closed-/);
  } finally {
    await t.close();
  }
});

test('files with --epp-service-name: a ref naming another Service is an external picker, asked over ext_proc (its failureMode when unreachable)', async () => {
  // No Service closed-epp in the files: it is dialled by its cluster DNS name, which does not resolve here.
  const t = await twoPools({ eppServiceName: 'open-epp', externalPickers: { messageTimeoutMs: 2000 } });
  try {
    assert.match(await t.pod('model/open'), /^open-/);
    assert.equal(t.gw.gateway.schedulers.pickerRef('default/open')?.picker, 'self');
    const ref = t.gw.gateway.schedulers.pickerRef('default/closed');
    assert.equal(ref?.picker, 'external');
    assert.equal(ref?.picker === 'external' && ref.address.target, 'closed-epp.default.svc:9002');
    assert.ok(
      t.lines.some((l) => l.includes('InferencePool default/closed: spec.endpointPickerRef names Service default/closed-epp, not infergate') && l.includes('infergate asks that endpoint picker over ext_proc at closed-epp.default.svc:9002')),
      t.lines.join('\n'),
    );
    assert.ok(!t.lines.some((l) => l.includes('InferencePool default/open:')), 'nothing to say of a pool infergate picks');
    const closed = await failure(t.client.completions.create({ model: 'model/closed', prompt: 'hello', max_tokens: 1 }));
    assert.equal(closed.status, 503);
    assert.equal(closed.code, 'endpoint_picker_unavailable');
    assert.match(closed.message, /the endpoint picker of InferencePool default\/closed \(default\/closed-epp, ext_proc at closed-epp\.default\.svc:9002\)/);
  } finally {
    await t.close();
  }
});
