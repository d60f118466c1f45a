/**
 * Config edits that cannot take the fleet down (issue #10): an emptied file, a writer pausing mid-write, a
 * deleted file and an empty relist from the Kubernetes API keep the configuration in force while requests run;
 * a held change is shown in /readyz and applies after the settle period, or at once with --allow-empty-config.
 * A selector typo that leaves one pool without endpoints is held too.
 * Simulated pods on 127.0.60.x (files), 127.0.232.x (the selector typo), 127.0.61.x and 127.0.234.x (Kubernetes).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, open, rename, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import OpenAI from 'openai';
import { request } from 'undici';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { startGateway } from '../../src/cli/start-gateway.js';
import { collectionPath, HTTP_ROUTES, INFERENCE_POOLS, PODS } from '../../src/config/kube/resource-types.js';
import type { ConfigReadiness } from '../../src/config/edit-guard.js';
import { createLogger } from '../../src/logger.js';
import { FakeKubeApi } from '../helpers/fake-kube-api.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';
import { startTestExtproc } from '../helpers/extproc.js';

const GEMMA = 'google/gemma-2b-it';
const QWEN = 'Qwen/Qwen2.5-7B-Instruct';

let fleet: Fleet;
before(async () => {
  fleet = await startFleet(60, [
    { name: 'gemma-0', labels: {}, model: GEMMA, ttftMs: 1, itlMs: 1 },
    { name: 'qwen-0', labels: {}, model: QWEN, ttftMs: 1, itlMs: 1 },
    { name: 'gemma-1', labels: {}, model: GEMMA, ttftMs: 1, itlMs: 1 },
  ]);
});
after(() => fleet.close());

/** One model's pods, pool and route, as one file of YAML documents. */
function modelYaml(pool: string, model: string, pods: readonly string[]): string {
  return [...pods.map((p) => podYaml(p, fleet.ipOf(p), { pool })), poolYaml(pool, { pool }, fleet.port), baseModelRouteYaml(pool, model, [[pool, 1]])].join('---\n');
}

/** Requests in a loop (two at a time, each model in turn) until stopped; bounded in count. */
class RequestLoop {
  sent = 0;
  readonly failures: string[] = [];
  #stop = false;
  readonly #done: Promise<void[]>;

  constructor(client: OpenAI, models: readonly string[]) {
    const worker = async (): Promise<void> => {
      while (!this.#stop && this.sent < 20_000) {
        const model = models[this.sent++ % models.length]!;
        try {
          await client.completions.create({ model, prompt: 'x', max_tokens: 2 });
        } catch (e) {
          if (this.failures.length < 20) this.failures.push(`${model}: ${(e as Error).message}`);
          else this.failures.push('');
        }
      }
    };
    this.#done = Promise.all([worker(), worker()]);
  }

  async stop(): Promise<this> {
    this.#stop = true;
    await this.#done;
    return this;
  }
}

function clientOf(gw: RunningGateway): OpenAI {
  return new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

async function readyz(url: string): Promise<{ status: number; config?: ConfigReadiness }> {
  const res = await request(`${url}/readyz`);
  const body = (await res.body.json()) as { details?: { config?: ConfigReadiness } };
  return { status: res.statusCode, ...(body.details?.config ? { config: body.details.config } : {}) };
}

async function served(client: OpenAI, model: string): Promise<boolean> {
  try {
    return (await client.completions.create({ model, prompt: 'x', max_tokens: 1 })).model === model;
  } catch {
    return false;
  }
}

/** A gateway on a temp dir of files, logging to `lines`; closed with its files. */
async function gatewayOn(files: Record<string, string>, opts: { settlePeriodMs?: number; allowEmptyConfig?: boolean; host?: string } = {}): Promise<{ gw: RunningGateway; cfg: TempConfig; lines: string[]; close(): Promise<void> }> {
  const cfg = await tempConfig(files);
  const lines: string[] = [];
  const gw = await startTestGateway(cfg.dir, {
    log: createLogger('info', (l) => lines.push(l)),
    fileSettleMs: 200,
    configEdits: { settlePeriodMs: opts.settlePeriodMs ?? 60_000, allowEmptyConfig: opts.allowEmptyConfig === true },
    ...(opts.host !== undefined ? { host: opts.host } : {}),
  });
  return {
    gw,
    cfg,
    lines,
    close: async () => {
      await gw.close();
      await cfg.remove();
    },
  };
}

test('(a) a file truncated to empty is rejected: requests keep succeeding, the log and /readyz say why, restoring it clears that', async () => {
  const text = `${modelYaml('gemma', GEMMA, ['gemma-0'])}---\n${modelYaml('qwen', QWEN, ['qwen-0'])}`;
  const t = await gatewayOn({ 'config.yaml': text });
  const loop = new RequestLoop(clientOf(t.gw), [GEMMA, QWEN]);
  try {
    const version = t.gw.gateway.state!.snapshot.version;
    await writeFile(join(t.cfg.dir, 'config.yaml'), '');
    assert.ok(await waitFor(async () => (await readyz(t.gw.url)).config?.rejected !== undefined, 5000), 'the rejected edit never showed in /readyz');
    const r = await readyz(t.gw.url);
    assert.equal(r.status, 200, 'a rejected edit does not make the gateway unready');
    assert.match(r.config!.rejected!.message, /config\.yaml: no YAML documents/);
    assert.ok(t.lines.some((l) => / ERROR .*configuration change rejected; the last good configuration stays in force/.test(l) && /config\.yaml: no YAML documents/.test(l)), t.lines.join('\n'));
    assert.equal(t.gw.gateway.state!.snapshot.version, version, 'the configuration in force did not change');
    await delay(300);
    await writeFile(join(t.cfg.dir, 'config.yaml'), text);
    assert.ok(await waitFor(async () => (await readyz(t.gw.url)).config === undefined, 5000), 'restoring the file did not clear the report');
  } finally {
    await loop.stop();
    await t.close();
  }
  assert.ok(loop.sent > 20, `requests sent: ${loop.sent}`);
  assert.deepEqual(loop.failures, [], `${loop.failures.length} of ${loop.sent} requests failed`);
});

for (const cut of ['half the bytes', 'a document boundary'] as const) {
  test(`(b) a writer that pauses 1 s after ${cut}: no request fails, and the whole file is applied`, async () => {
    const before = `${modelYaml('gemma', GEMMA, ['gemma-0'])}---\n${modelYaml('qwen', QWEN, ['qwen-0'])}`;
    // The new version adds a pod. Its first half does not parse; its first model's documents alone are a valid
    // configuration without the qwen model.
    const first = `${modelYaml('gemma', GEMMA, ['gemma-0', 'gemma-1'])}---\n`;
    const next = `${first}${modelYaml('qwen', QWEN, ['qwen-0'])}`;
    const t = await gatewayOn({ 'config.yaml': before });
    const loop = new RequestLoop(clientOf(t.gw), [GEMMA, QWEN]);
    try {
      await delay(200);
      const at = cut === 'a document boundary' ? first.length : Math.floor(next.length / 2);
      const fh = await open(join(t.cfg.dir, 'config.yaml'), 'w');
      try {
        await fh.write(next.slice(0, at));
        await delay(1000);
        await fh.write(next.slice(at));
      } finally {
        await fh.close();
      }
      assert.ok(await waitFor(() => t.gw.gateway.state!.snapshot.pods.length === 3, 5000), 'the whole new file was never applied');
      await delay(300);
      assert.equal((await readyz(t.gw.url)).config?.held, undefined, 'nothing is left held once the whole file is in');
    } finally {
      await loop.stop();
      await t.close();
    }
    assert.ok(loop.sent > 20, `requests sent: ${loop.sent}`);
    assert.deepEqual(loop.failures, [], `${loop.failures.length} of ${loop.sent} requests failed`);
  });
}

test('(c) deleting one of two files, then the only one: the objects stay, reported in /readyz, until the settle period passes', async () => {
  const t = await gatewayOn({ 'gemma.yaml': modelYaml('gemma', GEMMA, ['gemma-0']), 'qwen.yaml': modelYaml('qwen', QWEN, ['qwen-0']) }, { settlePeriodMs: 1500 });
  const client = clientOf(t.gw);
  try {
    await unlink(join(t.cfg.dir, 'qwen.yaml'));
    assert.ok(await waitFor(async () => (await readyz(t.gw.url)).config?.held !== undefined, 5000), 'the deletion was not held');
    const held = (await readyz(t.gw.url)).config!.held!;
    assert.match(held.reasons.join('\n'), /every object declared in .*qwen\.yaml \(3\): the file was deleted/);
    assert.ok(Date.parse(held.applies_at) > Date.parse(held.held_since));
    assert.ok(t.lines.some((l) => / WARN .*configuration change held back: .*qwen\.yaml/.test(l)), t.lines.join('\n'));
    assert.ok(await served(client, QWEN), "the deleted file's model is still served while held");
    // Confirmed by staying in place: the model goes, the other stays.
    assert.ok(await waitFor(() => !t.gw.gateway.state!.snapshot.pools.has('default/qwen'), 5000), 'the held deletion never applied');
    assert.equal(await served(client, QWEN), false);
    assert.ok(await served(client, GEMMA));
    assert.equal((await readyz(t.gw.url)).config, undefined);

    await unlink(join(t.cfg.dir, 'gemma.yaml'));
    assert.ok(await waitFor(async () => /leaves the configuration empty/.test((await readyz(t.gw.url)).config?.held?.reasons.join() ?? ''), 5000), 'deleting the only file was not held');
    assert.ok(await served(client, GEMMA), 'the last model is still served while the empty config is held');
    assert.ok(await waitFor(() => t.gw.gateway.state!.snapshot.pools.size === 0, 5000), 'the held empty config never applied');
  } finally {
    await t.close();
  }
});

test('(d) --allow-empty-config applies a deleted file and an emptied one at once', async () => {
  const t = await gatewayOn({ 'gemma.yaml': modelYaml('gemma', GEMMA, ['gemma-0']), 'qwen.yaml': modelYaml('qwen', QWEN, ['qwen-0']) }, { allowEmptyConfig: true });
  const client = clientOf(t.gw);
  try {
    await unlink(join(t.cfg.dir, 'qwen.yaml'));
    // The settle period is 60 s: gone within seconds means it was not held.
    assert.ok(await waitFor(() => !t.gw.gateway.state!.snapshot.pools.has('default/qwen'), 5000), 'the deletion was held');
    assert.equal(await served(client, QWEN), false);
    await writeFile(join(t.cfg.dir, 'gemma.yaml'), '');
    assert.ok(await waitFor(() => t.gw.gateway.state!.snapshot.pools.size === 0, 5000), 'the emptied file was not applied');
    assert.equal((await readyz(t.gw.url)).config, undefined);
    assert.ok(t.lines.some((l) => / WARN .*applying a configuration change at once \(--allow-empty-config\)/.test(l)), t.lines.join('\n'));
  } finally {
    await t.close();
  }
});

test('(d) extproc: a held deletion shows in /readyz on the metrics port', async () => {
  const cfg = await tempConfig({ 'gemma.yaml': modelYaml('gemma', GEMMA, ['gemma-0']) });
  const ext = await startTestExtproc({ configPath: cfg.dir, fileSettleMs: 50, debounceMs: 20, configEdits: { settlePeriodMs: 60_000 } });
  try {
    const url = `http://127.0.0.1:${ext.ports.metrics}`;
    assert.equal((await readyz(url)).config, undefined);
    await unlink(join(cfg.dir, 'gemma.yaml'));
    assert.ok(await waitFor(async () => (await readyz(url)).config?.held !== undefined, 5000), 'the held deletion is not in /readyz');
    assert.equal((await readyz(url)).status, 200);
    assert.equal(ext.gateway.state!.snapshot.pools.size, 1);
  } finally {
    await ext.close();
    await cfg.remove();
  }
});

test('(f) a selector typo in one of two pools (2 of 4 endpoints) is held, naming the pool: its requests keep succeeding; restoring it drops the hold', async () => {
  // Its own fleet, on 127.0.232.x: two models of two pods each, as examples/seed-demo.
  const typoFleet = await startFleet(232, [
    { name: 'gemma-0', labels: {}, model: GEMMA, ttftMs: 1, itlMs: 1 },
    { name: 'gemma-1', labels: {}, model: GEMMA, ttftMs: 1, itlMs: 1 },
    { name: 'qwen-0', labels: {}, model: QWEN, ttftMs: 1, itlMs: 1 },
    { name: 'qwen-1', labels: {}, model: QWEN, ttftMs: 1, itlMs: 1 },
  ]);
  const pools = (qwenSelector: string): string => [poolYaml('gemma', { model: 'gemma' }, typoFleet.port), poolYaml('qwen', { model: qwenSelector }, typoFleet.port)].join('---\n');
  const t = await gatewayOn(
    {
      'pods.yaml': [...typoFleet.sims.keys()].map((p) => podYaml(p, typoFleet.ipOf(p), { model: p.split('-')[0]! })).join('---\n'),
      'pools.yaml': pools('qwen'),
      'routes.yaml': [baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]), baseModelRouteYaml('qwen', QWEN, [['qwen', 1]])].join('---\n'),
    },
    { host: '127.0.232.1' },
  );
  const loop = new RequestLoop(clientOf(t.gw), [GEMMA, QWEN]);
  try {
    const version = t.gw.gateway.state!.snapshot.version;
    // Written beside and renamed into place, as an editor saves.
    const replace = async (text: string): Promise<void> => {
      await writeFile(join(t.cfg.dir, '.pools.yaml.tmp'), text);
      await rename(join(t.cfg.dir, '.pools.yaml.tmp'), join(t.cfg.dir, 'pools.yaml'));
    };
    await replace(pools('qwne'));
    assert.ok(await waitFor(async () => (await readyz(t.gw.url)).config?.held !== undefined, 5000), `the typo was not held:\n${t.lines.join('\n')}`);
    const held = (await readyz(t.gw.url)).config!.held!;
    assert.deepEqual(held.reasons, ['it leaves InferencePool default/qwen with no routable endpoints (2 -> 0): no pod matches its selector model=qwne']);
    assert.match(held.to_confirm, /--allow-empty-config/);
    assert.ok(t.lines.some((l) => / WARN .*configuration change held back: it leaves InferencePool default\/qwen with no routable endpoints.*--config-settle-period 60000 ms/.test(l)), t.lines.join('\n'));
    assert.equal(t.gw.gateway.state!.snapshot.version, version, 'the configuration in force did not change');
    assert.ok(await served(clientOf(t.gw), QWEN), 'the pool is still served while the typo is held');
    await replace(pools('qwen'));
    assert.ok(await waitFor(async () => (await readyz(t.gw.url)).config === undefined, 5000), 'restoring the selector did not drop the hold');
  } finally {
    await loop.stop();
    await t.close();
    await typoFleet.close();
  }
  assert.ok(loop.sent > 20, `requests sent: ${loop.sent}`);
  assert.deepEqual(loop.failures, [], `${loop.failures.length} of ${loop.sent} requests failed`);
});

/**
 * A fake API server holding one gemma pool in `ns` (pool, route, and a Ready pod per fleet replica), a gateway
 * reading it, and what puts the objects back: the two Kubernetes tests below.
 */
async function kubeGemma(octet: number, pods: readonly string[], ns: string, kube: { reconnectCautionMs?: number } = {}) {
  const fleet = await startFleet(octet, pods.map((name) => ({ name, labels: {}, model: GEMMA, ttftMs: 1, itlMs: 1 })));
  const api = new FakeKubeApi();
  await api.start();
  const dir = await mkdtemp(join(tmpdir(), `infergate-${ns}-`));
  await api.writeKubeconfig(join(dir, 'kubeconfig'), ns);
  const paths = { pools: collectionPath(INFERENCE_POOLS, ns), routes: collectionPath(HTTP_ROUTES, ns), pods: collectionPath(PODS, ns) };
  const putPods = (): void => {
    for (const name of pods) {
      api.put(paths.pods, { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: ns, labels: { app: 'gemma' } }, spec: {}, status: { podIP: fleet.ipOf(name), conditions: [{ type: 'Ready', status: 'True' }] } });
    }
  };
  const putAll = (): void => {
    api.put(paths.pools, { apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name: 'gemma', namespace: ns }, spec: { selector: { matchLabels: { app: 'gemma' } }, targetPorts: [{ number: fleet.port }] } });
    api.put(paths.routes, {
      apiVersion: HTTP_ROUTES.apiVersion,
      kind: 'HTTPRoute',
      metadata: { name: 'gemma', namespace: ns },
      spec: { rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' } }], backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'gemma' }] }] },
    });
    putPods();
  };
  putAll();
  const lines: string[] = [];
  const gw = await startGateway({
    kube: { kubeconfig: join(dir, 'kubeconfig'), reflector: { backoff: { initialMs: 20, maxMs: 100, jitter: 0 } }, ...kube },
    host: '127.0.0.1',
    port: 0,
    debounceMs: 20,
    configEdits: { settlePeriodMs: 60_000 },
    log: createLogger('info', (l) => lines.push(l)),
  });
  return {
    api,
    gw,
    lines,
    paths,
    putPods,
    putAll,
    async close(): Promise<void> {
      await gw.close();
      await api.stop();
      await fleet.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

test('(e) Kubernetes: when only the pods come back empty after the API server lost them, the pool left without endpoints is held; outside a reconnect, the same loss applies at once', async () => {
  // The pods' list alone: before, it emptied the pool at once (404s) whenever it came back before the pools' list.
  const k = await kubeGemma(234, ['gemma-a', 'gemma-b'], 'edits-pods', { reconnectCautionMs: 1500 });
  const { api, gw, lines, paths: p } = k;
  const client = clientOf(gw);
  try {
    assert.ok(await served(client, GEMMA));
    await api.stop();
    for (const name of ['gemma-a', 'gemma-b']) api.remove(p.pods, name);
    api.compact();
    await api.start();
    assert.ok(await waitFor(async () => /leaves InferencePool edits-pods\/gemma with no routable endpoints/.test((await readyz(gw.url)).config?.held?.reasons.join() ?? ''), 8000), `the pods' empty relist was not held:\n${lines.join('\n')}`);
    assert.ok(await served(client, GEMMA), 'requests are still served by the pods in force');
    k.putPods();
    assert.ok(await waitFor(async () => (await readyz(gw.url)).config === undefined, 8000), 'the pods coming back did not replace the held change');
    assert.ok(await served(client, GEMMA));
    // Long after the reconnect, the pods deleted one watch event at a time (a scale-down) apply at once, as before.
    await delay(1600);
    const before = gw.gateway.state!.snapshot.version;
    for (const name of ['gemma-a', 'gemma-b']) api.remove(p.pods, name);
    assert.ok(await waitFor(async () => gw.gateway.state!.snapshot.version > before && gw.gateway.state!.snapshot.pods.length === 0, 8000), `the scale-down was not applied:\n${lines.join('\n')}`);
    assert.equal((await readyz(gw.url)).config, undefined, 'nothing is held');
  } finally {
    await k.close();
  }
});

test('(e) Kubernetes: a relist that comes back empty is held; the objects coming back replace it', async () => {
  const k = await kubeGemma(61, ['gemma-k'], 'edits');
  const { api, gw, lines, paths: p } = k;
  const client = clientOf(gw);
  try {
    assert.ok(await served(client, GEMMA));
    // The API server goes away, loses every object and its history, and comes back: the watches must relist.
    await api.stop();
    for (const [path, name] of [[p.pools, 'gemma'], [p.routes, 'gemma'], [p.pods, 'gemma-k']] as const) api.remove(path, name);
    api.compact();
    await api.start();
    assert.ok(await waitFor(async () => /leaves the configuration empty|removes every InferencePool/.test((await readyz(gw.url)).config?.held?.reasons.join() ?? ''), 8000), `the empty relist was not held:\n${lines.join('\n')}`);
    assert.ok(gw.kube!.source.reflectors().some((r) => r.stats.relists > 0), 'the watches relisted');
    assert.equal(gw.gateway.state!.snapshot.pools.size, 1, 'the configuration in force is kept');
    assert.ok(await served(client, GEMMA), 'requests are still served from the configuration in force');
    k.putAll();
    assert.ok(await waitFor(async () => (await readyz(gw.url)).config === undefined, 8000), 'the objects coming back did not replace the held change');
    assert.ok(await served(client, GEMMA));
  } finally {
    await k.close();
  }
});
