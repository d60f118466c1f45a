/**
 * What following the Kubernetes API costs: time to the first sync, and the delay from one pod's readiness
 * flipping on the API server to a new snapshot being handed to the gateway, for a cluster of P pools x M pods
 * (plus allowlists and routes). The API server is the in-process fake (test/helpers/fake-kube-api.ts), so the
 * figures are infergate's own: list parsing, watch decoding, reading every object, building the snapshot.
 * The snapshot goes to a no-op sink, so endpoint probing (model discovery, first scrape) is not included.
 * Prints a Markdown table.
 *
 *   npx tsc -p . && node dist/bench/kube-sync.js [--pools 100] [--pods 10] [--changes 200]
 */
import { performance } from 'node:perf_hooks';
import { benchArgs } from './lib/bench-args.js';
import { KubeConfigSource } from '../src/config/kube/kube-source.js';
import { CONFIG_MAPS, HTTP_ROUTES, INFERENCE_POOLS, PODS, collectionPath } from '../src/config/kube/resource-types.js';
import type { ConfigSnapshot } from '../src/config/snapshot.js';
import { createLogger } from '../src/logger.js';
import { FakeKubeApi, type FakeObject } from '../test/helpers/fake-kube-api.js';

const { values } = benchArgs({ options: { pools: { type: 'string', default: '100' }, pods: { type: 'string', default: '10' }, changes: { type: 'string', default: '200' } } });
const POOLS = Math.min(1000, Number(values.pools));
const PODS_PER_POOL = Math.min(100, Number(values.pods));
const CHANGES = Math.min(2000, Number(values.changes));
const NS = 'bench';

const api = new FakeKubeApi();
await api.start();
const p = { pools: collectionPath(INFERENCE_POOLS, NS), routes: collectionPath(HTTP_ROUTES, NS), cms: collectionPath(CONFIG_MAPS, NS), pods: collectionPath(PODS, NS) };
const podObject = (pool: number, i: number, ready: boolean): FakeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: `m${pool}-${i}`, namespace: NS, labels: { model: `m${pool}` } },
  spec: {},
  status: { podIP: `10.${Math.floor(pool / 250)}.${pool % 250}.${i + 1}`, conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
});
for (let pool = 0; pool < POOLS; pool++) {
  api.put(p.pools, { apiVersion: INFERENCE_POOLS.apiVersion, kind: 'InferencePool', metadata: { name: `m${pool}`, namespace: NS }, spec: { selector: { matchLabels: { model: `m${pool}` } }, targetPorts: [{ number: 8000 }] } });
  api.put(p.cms, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `m${pool}`, namespace: NS, labels: { 'inference.networking.k8s.io/bbr-managed': 'true' } }, data: { baseModel: `base-${pool}`, adapters: `- lora-${pool}-a\n- lora-${pool}-b` } });
  api.put(p.routes, {
    apiVersion: HTTP_ROUTES.apiVersion,
    kind: 'HTTPRoute',
    metadata: { name: `m${pool}`, namespace: NS },
    spec: {
      parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'infergate' }],
      rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [{ type: 'Exact', name: 'X-Gateway-Base-Model-Name', value: `base-${pool}` }] }], backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: `m${pool}`, weight: 1 }] }],
    },
  });
  for (let i = 0; i < PODS_PER_POOL; i++) api.put(p.pods, podObject(pool, i, true));
}

let waiting: ((s: ConfigSnapshot) => void) | undefined;
let applied = 0;
const source = new KubeConfigSource({
  client: api.client(NS),
  log: createLogger((process.env.BENCH_LOG as 'debug' | undefined) ?? 'error'),
  debounceMs: 0,
  apply: async (s) => {
    applied++;
    waiting?.(s);
  },
});
const cpu0 = process.cpuUsage();
const t0 = performance.now();
source.start();
const first = await source.firstSync();
const firstSyncMs = performance.now() - t0;
const firstCpuMs = (process.cpuUsage(cpu0).user + process.cpuUsage(cpu0).system) / 1000;

const delays: number[] = [];
const cpu1 = process.cpuUsage();
for (let c = 0; c < CHANGES; c++) {
  const pool = c % POOLS;
  const i = Math.floor(c / POOLS) % PODS_PER_POOL;
  // Each pass over the pods flips them all: NotReady on the first pass, Ready on the next.
  const ready = Math.floor(c / (POOLS * PODS_PER_POOL)) % 2 === 1;
  const seen = new Promise<ConfigSnapshot>((resolve) => (waiting = resolve));
  const start = performance.now();
  api.put(p.pods, podObject(pool, i, ready));
  const snap = await seen;
  delays.push(performance.now() - start);
  if (snap.pods.find((x) => x.meta.name === `m${pool}-${i}`)?.ready !== ready) throw new Error('snapshot does not reflect the change');
}
const cpuPerChange = (process.cpuUsage(cpu1).user + process.cpuUsage(cpu1).system) / 1000 / CHANGES;
await source.close();
await api.stop();

delays.sort((a, b) => a - b);
const q = (f: number): string => delays[Math.min(delays.length - 1, Math.floor(f * delays.length))]!.toFixed(2);
const objects = first.pools.size + first.routes.length + first.allowlists.length + first.pods.length;
console.log(`| pools x pods | objects | watches | first sync | CPU of first sync | pod change -> snapshot p50 / p90 / p99 | CPU per change | snapshots |`);
console.log(`|---|---:|---:|---:|---:|---|---:|---:|`);
console.log(`| ${POOLS} x ${PODS_PER_POOL} | ${objects} | ${POOLS + 5} | ${firstSyncMs.toFixed(0)} ms | ${firstCpuMs.toFixed(0)} ms | ${q(0.5)} / ${q(0.9)} / ${q(0.99)} ms | ${cpuPerChange.toFixed(2)} ms | ${applied} |`);
