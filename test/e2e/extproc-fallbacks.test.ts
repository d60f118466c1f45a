/**
 * The picker's fallback endpoints (GIE's protocol: `ip:port,ip:port,...`, primary first) in the header and in
 * envoy.lb, bounded by Envoy's subset hint, and the data plane going down that list. Three simulated vLLM pods
 * on 127.0.183.x; Envoy's messages replayed over real gRPC, no Envoy binary runs.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { ExtProcClient, requestBody, requestHeaders, responseBody, responseHeaders } from '../../src/extproc/ext-proc-client.js';
import type { ProcessingResponse } from '../../src/envoy/processing-messages.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { ended, startTestExtproc } from '../helpers/extproc.js';
import { CHAT, FULL_DUPLEX, GEMMA, chat, destination } from '../helpers/extproc-epp.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const FALLBACKS = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- type: queue-scorer
- type: max-score-picker
  parameters: {maxNumOfEndpoints: 3}
schedulingProfiles:
- name: default
  plugins: [{pluginRef: queue-scorer}, {pluginRef: max-score-picker}]
`;

let fleet: Fleet;
let cfg: TempConfig;
let xp: RunningExtproc;
let client: ExtProcClient;
const PODS = ['gemma-0', 'gemma-1', 'gemma-2'];
const addr = (pod: string): string => `${fleet.ipOf(pod)}:${fleet.port}`;
const inFlight = (a: string): number => xp.gateway.datastore.endpoint(a)!.inFlight;

before(async () => {
  fleet = await startFleet(183, PODS.map((name) => ({ name, labels: {}, model: GEMMA, ttftMs: 0, itlMs: 1 })));
  cfg = await tempConfig({
    'pods.yaml': PODS.map((p) => podYaml(p, fleet.ipOf(p), { model: 'gemma' })).join('---\n'),
    'pools.yaml': [poolYaml('gemma', { model: 'gemma' }, fleet.port).replace('  namespace: default\n', '  namespace: default\n  annotations: {infergate.io/endpoint-picker-config: fallbacks}\n'), eppConfigMapYaml('fallbacks', FALLBACKS)].join('---\n'),
    'routes.yaml': baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]),
  });
  xp = await startTestExtproc({ configPath: cfg.dir });
  client = new ExtProcClient(`127.0.0.1:${xp.ports.epp}`);
  assert.ok(await waitFor(() => PODS.every((p) => xp.gateway.datastore.endpoint(addr(p))?.metrics !== undefined)));
});

after(async () => {
  client?.close();
  await xp?.close();
  await fleet?.close();
  await cfg?.remove();
});

/** The list in envoy.lb. */
function lbList(r: ProcessingResponse): string {
  const v = (r.dynamic_metadata?.fields?.['envoy.lb']?.structValue?.fields?.['x-gateway-destination-endpoint'] as { stringValue?: string } | undefined)?.stringValue;
  assert.ok(v !== undefined, JSON.stringify(r.dynamic_metadata));
  return v;
}

test('maxNumOfEndpoints 3: every endpoint once, primary first, the same list in the header and in envoy.lb', async () => {
  const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(GEMMA), true));
  const r = await s.next();
  const list = destination(r);
  assert.equal(lbList(r), list);
  assert.deepEqual(list.split(',').sort(), PODS.map(addr).sort());
  assert.equal(inFlight(list.split(',')[0]!), 1, 'the primary is counted');
  await s.next();
  s.send(responseHeaders({ ':status': '200' }, true));
  await s.next();
  await ended(s);
});

test('with a subset hint, the list holds the hinted endpoints only', async () => {
  const hinted = [addr('gemma-0'), addr('gemma-2')];
  const s = client.open().send(requestHeaders(CHAT, false, { ...FULL_DUPLEX, metadata: { 'envoy.lb.subset_hint': { 'x-gateway-destination-endpoint-subset': hinted } } }), requestBody(chat(GEMMA), true));
  const r = await s.next();
  assert.deepEqual(destination(r).split(',').sort(), [...hinted].sort());
  assert.equal(lbList(r), destination(r));
  await s.next();
  s.send(responseHeaders({ ':status': '200' }, true));
  await s.next();
  await ended(s);
});

test('the data plane went to the second: the count is on it while it streams, and released once', async () => {
  const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(GEMMA), true));
  const [first, second] = destination(await s.next()).split(',') as [string, string];
  await s.next();
  s.send(responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }, false, { 'envoy.lb': { 'x-gateway-destination-endpoint-served': second } }));
  await s.next();
  assert.deepEqual([inFlight(first), inFlight(second)], [0, 1]);
  s.send(responseBody('data: [DONE]\n\n', true));
  await s.next();
  await ended(s);
  assert.deepEqual(PODS.map((p) => inFlight(addr(p))), [0, 0, 0]);
});

test('a served endpoint the picker does not know (a pod deleted meanwhile): the client is told it, and the pick, which did not serve, no longer counts', async () => {
  // The client was told the pick had served, and the pick kept the count for the whole response.
  const s = client.open().send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(chat(GEMMA), true));
  const [first] = destination(await s.next()).split(',') as [string];
  await s.next();
  const gone = '127.0.183.250:8000';
  s.send(responseHeaders({ ':status': '200', 'content-type': 'text/event-stream' }, false, { 'envoy.lb': { 'x-gateway-destination-endpoint-served': gone } }));
  const r = await s.next();
  const served = r.response_headers?.response?.header_mutation?.set_headers?.find((h) => h.header.key === 'x-gateway-destination-endpoint-served');
  assert.equal(served?.header.raw_value?.toString(), gone);
  assert.deepEqual(PODS.map((p) => inFlight(addr(p))), [0, 0, 0], `${first} served nothing`);
  assert.equal(xp.gateway.datastore.endpoint(first)!.unanswered, 0);
  s.send(responseBody('data: [DONE]\n\n', true));
  await s.next();
  await ended(s);
  assert.deepEqual(PODS.map((p) => inFlight(addr(p))), [0, 0, 0], 'released once');
  assert.deepEqual(PODS.map((p) => xp.gateway.datastore.endpoint(addr(p))!.unanswered), [0, 0, 0]);
});
