/**
 * The deployment examples under deploy/ agree with the code: names, ports, header and metadata keys, and
 * the infergate configuration they mount loads. No Envoy, Istio, GKE or Envoy Gateway runs here; this only
 * checks what can be checked without them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { DESTINATION_ENDPOINT_HEADER, DISAGGREGATION_HEADERS } from '../../src/bbr/routing-headers.js';
import { loadSnapshotFromPath } from '../../src/config/file-source.js';
import { POOL_GRPC_METADATA_KEY } from '../../src/envoy/pool-metadata-keys.js';
import { DEFAULT_EXTPROC_OPTIONS } from '../../src/extproc/start-extproc.js';
import { SUBSET_HINT_NAMESPACE } from '../../src/epp/subset-hint.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const K8S_DIRS = ['deploy/istio', 'deploy/gke', 'deploy/envoy-gateway'];

type Doc = Record<string, unknown> & { kind?: string; metadata?: { name?: string }; spec?: Record<string, unknown>; data?: Record<string, string> };

async function docs(file: string): Promise<Doc[]> {
  const parsed = parseAllDocuments(await readFile(join(ROOT, file), 'utf8'));
  for (const d of parsed) assert.deepEqual(d.errors, [], file);
  return parsed.map((d) => d.toJSON() as Doc).filter((d) => d !== null);
}

test('every example says which versions it targets and that it was not run here', async () => {
  const files = ['deploy/envoy/envoy.yaml', ...K8S_DIRS.flatMap((d) => [`${d}/infergate-extproc.yaml`])];
  files.push('deploy/istio/envoy-filter.yaml', 'deploy/gke/routing-extension.yaml', 'deploy/envoy-gateway/envoy-extension-policy.yaml');
  for (const f of files) {
    const head = (await readFile(join(ROOT, f), 'utf8')).split('\n').slice(0, 12).join('\n');
    assert.match(head, /Targets /, f);
    assert.match(head, /NOT RUN HERE/, f);
  }
});

test('the infergate configuration mounted in each cluster example loads, and its pools name infergate as picker', async () => {
  for (const dir of K8S_DIRS) {
    const all = await docs(`${dir}/infergate-extproc.yaml`);
    const cm = all.find((d) => d.kind === 'ConfigMap')!;
    const tmp = await mkdtemp(join(tmpdir(), 'infergate-deploy-'));
    try {
      for (const [name, text] of Object.entries(cm.data ?? {})) await writeFile(join(tmp, name), text);
      const snapshot = await loadSnapshotFromPath(tmp, {});
      assert.deepEqual([...snapshot.pools.keys()].sort(), ['llm-d/gaie-pattern2-gemma', 'llm-d/gaie-pattern2-phi3'], dir);
      for (const pool of snapshot.pools.values()) assert.equal(pool.endpointPickerRef?.name, 'infergate-extproc', dir);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
    const deployment = all.find((d) => d.kind === 'Deployment')!;
    const ports = JSON.stringify(deployment.spec);
    for (const p of [DEFAULT_EXTPROC_OPTIONS.bbrPort, DEFAULT_EXTPROC_OPTIONS.eppPort, DEFAULT_EXTPROC_OPTIONS.healthPort, DEFAULT_EXTPROC_OPTIONS.adminPort]) assert.ok(ports.includes(`"containerPort":${p}`), `${dir}: port ${p}`);
  }
});

test('envoy.yaml: filters in order, body modes, the picked-endpoint cluster, per-route pool names, FailOpen routes', async () => {
  const [bootstrap] = await docs('deploy/envoy/envoy.yaml');
  const text = JSON.stringify(bootstrap);
  const hcm = ((bootstrap as { static_resources: { listeners: { filter_chains: { filters: { typed_config: Record<string, unknown> }[] }[] }[] } }).static_resources.listeners[0]!.filter_chains[0]!.filters[0]!.typed_config) as {
    http_filters: { name: string; typed_config: { processing_mode?: Record<string, string>; failure_mode_allow?: boolean; metadata_options?: unknown } }[];
    route_config: { virtual_hosts: { routes: { match: { headers: { name: string }[] }; route: { cluster: string }; typed_per_filter_config?: Record<string, { overrides: { grpc_initial_metadata: { key: string; value: string }[] } }> }[] }[] };
  };
  assert.deepEqual(hcm.http_filters.map((f) => f.name), ['strip-routing-headers', 'infergate.bbr', 'infergate.epp', 'envoy.filters.http.router']);
  // A FailOpen request skips the picker's own removals: the first filter drops every reserved header a pod would act on.
  const stripped = (hcm.http_filters[0]!.typed_config as unknown as { mutations: { request_mutations: { remove: string }[] } }).mutations.request_mutations.map((m) => m.remove);
  for (const h of [DESTINATION_ENDPOINT_HEADER, ...DISAGGREGATION_HEADERS]) assert.ok(stripped.includes(h), `strip-routing-headers removes ${h}`);
  const bbr = hcm.http_filters[1]!.typed_config;
  const epp = hcm.http_filters[2]!.typed_config;
  assert.equal(bbr.processing_mode?.request_body_mode, 'FULL_DUPLEX_STREAMED');
  assert.equal(epp.processing_mode?.request_body_mode, 'FULL_DUPLEX_STREAMED');
  assert.equal(epp.processing_mode?.response_body_mode, 'FULL_DUPLEX_STREAMED');
  assert.equal(epp.failure_mode_allow, true, 'FailOpen');
  assert.ok(JSON.stringify(epp.metadata_options).includes(SUBSET_HINT_NAMESPACE));
  assert.ok(text.includes(`"http_header_name":"${DESTINATION_ENDPOINT_HEADER}"`));

  // Every route names an existing pool of examples/seed-demo, by the key infergate reads.
  const seed = await loadSnapshotFromPath(join(ROOT, 'examples/seed-demo'), {});
  const routes = hcm.route_config.virtual_hosts[0]!.routes;
  for (const r of routes) {
    const md = r.typed_per_filter_config?.['infergate.epp']?.overrides.grpc_initial_metadata[0];
    assert.equal(md?.key, POOL_GRPC_METADATA_KEY);
    assert.ok(seed.pools.has(md.value), md.value);
    const picked = r.match.headers.some((h) => h.name === DESTINATION_ENDPOINT_HEADER);
    assert.equal(r.route.cluster === 'picked_endpoint', picked, 'routes with a pick go to the ORIGINAL_DST cluster, the others to FailOpen clusters');
  }
  // The FailOpen clusters list exactly the pool's pods.
  for (const [cluster, pool] of [['failopen_gemma', 'llm-d/gaie-pattern2-gemma'], ['failopen_phi3', 'llm-d/gaie-pattern2-phi3']] as const) {
    const def = (bootstrap as { static_resources: { clusters: { name: string; load_assignment?: { endpoints: { lb_endpoints: { endpoint: { address: { socket_address: { address: string; port_value: number } } } }[] }[] } }[] } }).static_resources.clusters.find((c) => c.name === cluster)!;
    const listed = def.load_assignment!.endpoints[0]!.lb_endpoints.map((e) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`).sort();
    const members = (seed.members.get(pool) ?? []).flatMap((m) => (m.pod.podIP ? [`${m.pod.podIP}:8000`] : [])).sort();
    assert.deepEqual(listed, members, cluster);
  }
});

test('the PodMonitor of deploy/grafana/README.md scrapes the admin port by the name both kustomize modes give it, and both Services expose it', async () => {
  const readme = await readFile(join(ROOT, 'deploy/grafana/README.md'), 'utf8');
  const port = /podMetricsEndpoints:\s*\n\s*- port: (\S+)/.exec(readme)?.[1];
  assert.ok(port, 'the README has a PodMonitor');
  for (const mode of ['deploy/kustomize/overlays/standalone-gateway', 'deploy/kustomize/modes/ext-proc']) {
    const [deployment] = await docs(`${mode}/deployment.yaml`);
    const spec = deployment!.spec as { template: { spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } };
    const named: { containerPort: number } | undefined = spec.template.spec.containers[0]!.ports.find((p) => p.name === port);
    assert.equal(named?.containerPort, DEFAULT_EXTPROC_OPTIONS.adminPort, `${mode}: container port ${port}`);
    const [service] = await docs(`${mode}/service.yaml`);
    const ports: { port: number; targetPort: string }[] = (service!.spec as { ports: { port: number; targetPort: string }[] }).ports;
    assert.ok(ports.some((p) => p.targetPort === port && p.port === DEFAULT_EXTPROC_OPTIONS.adminPort), `${mode}: Service port ${DEFAULT_EXTPROC_OPTIONS.adminPort} -> ${port}`);
  }
});
