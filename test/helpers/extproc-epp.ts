/**
 * The endpoint picker's ext_proc server over four pools of simulated vLLM pods, as the extproc-epp end-to-end
 * tests share it, and the Envoy messages and answers those tests build. No Envoy binary runs.
 */
import assert from 'node:assert/strict';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { ExtProcClient, type EnvoyMessageOptions } from '../../src/extproc/ext-proc-client.js';
import type { ProcessingResponse } from '../../src/envoy/processing-messages.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { SESSION_AFFINITY_CONFIG } from './epp-configs.js';
import { startTestExtproc } from './extproc.js';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml, startFleet, startTestGateway, tempConfig, type Fleet, type TempConfig } from './fleet.js';

export const GEMMA = 'google/gemma-2b-it';
export const QWEN = 'Qwen/Qwen3-32B';
export const BUSY = 'busy/model';

/**
 * Pools gemma (two pods, session affinity), qwen (an InferenceModelRewrite segment-lora -> segment-lora-v1),
 * busy (one slot; objective `batch` is sheddable) and down (no ready pod), each with an HTTPRoute by base model.
 */
function config(octet: number, port: number, ip: (n: string) => string): Record<string, string> {
  return {
    'pods.yaml': [
      podYaml('gemma-0', ip('gemma-0'), { model: 'gemma' }),
      podYaml('gemma-1', ip('gemma-1'), { model: 'gemma' }),
      podYaml('qwen-0', ip('qwen-0'), { model: 'qwen' }),
      podYaml('busy-0', ip('busy-0'), { model: 'busy' }),
      podYaml('down-0', `127.0.${octet}.250`, { model: 'down' }, { ready: false }),
    ].join('---\n'),
    // gemma uses session affinity (a scheduler with a response-headers hook); the others llm-d's default profile.
    'pools.yaml': [
      poolYaml('gemma', { model: 'gemma' }, port).replace('  namespace: default\n', '  namespace: default\n  annotations: {infergate.io/endpoint-picker-config: sticky}\n'),
      eppConfigMapYaml('sticky', SESSION_AFFINITY_CONFIG),
      poolYaml('qwen', { model: 'qwen' }, port),
      poolYaml('busy', { model: 'busy' }, port),
      poolYaml('down', { model: 'down' }, port),
    ].join('---\n'),
    'routes.yaml': [
      baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]),
      baseModelRouteYaml('qwen', QWEN, [['qwen', 1]]),
      baseModelRouteYaml('busy', BUSY, [['busy', 1]]),
      baseModelRouteYaml('down', 'down/model', [['down', 1]]),
    ].join('---\n'),
    'objectives.yaml': `apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: batch}
spec: {priority: -1, poolRef: {group: inference.networking.k8s.io, name: busy}}
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModelRewrite
metadata: {name: segment-canary}
spec:
  poolRef: {group: inference.networking.k8s.io, name: qwen}
  rules:
    - matches: [{model: {type: Exact, value: segment-lora}}]
      targets: [{modelRewrite: segment-lora-v1, weight: 100}]
`,
    'allowlists.yaml': allowlistYaml('down', 'down/model', []),
  };
}

export interface EppEnv {
  fleet: Fleet;
  xp: RunningExtproc;
  /** The standalone gateway on the same configuration, to compare answers with. */
  gw: RunningGateway;
  client: ExtProcClient;
  /** Pod name -> its endpoint address (ip:port). */
  addr(pod: string): string;
  /** The picker's in-flight count for an endpoint address. */
  inFlight(address: string): number;
  close(): Promise<void>;
}

/** The pods on 127.0.<octet>.x (each test file its own octet), the picker (50 decisions kept for /debug/scheduling) and the gateway. */
export async function startEppEnv(octet: number): Promise<EppEnv> {
  const fleet = await startFleet(octet, [
    { name: 'gemma-0', labels: {}, model: GEMMA, loras: ['gemma-sql-lora'], ttftMs: 0, itlMs: 1 },
    { name: 'gemma-1', labels: {}, model: GEMMA, loras: ['gemma-sql-lora'], ttftMs: 0, itlMs: 1 },
    { name: 'qwen-0', labels: {}, model: QWEN, loras: ['segment-lora-v1'], ttftMs: 0, itlMs: 1 },
    { name: 'busy-0', labels: {}, model: BUSY, ttftMs: 0, itlMs: 10, maxNumSeqs: 1 },
  ]);
  let cfg: TempConfig | undefined;
  let xp: RunningExtproc | undefined;
  let gw: RunningGateway | undefined;
  const close = async (): Promise<void> => {
    await xp?.close();
    await gw?.close();
    await fleet.close();
    await cfg?.remove();
  };
  try {
    cfg = await tempConfig(config(octet, fleet.port, fleet.ipOf));
    xp = await startTestExtproc({ configPath: cfg.dir, debugDecisions: 50, debugShowRequestIds: true });
    gw = await startTestGateway(cfg.dir);
  } catch (e) {
    await close();
    throw e;
  }
  const picker = xp;
  const client = new ExtProcClient(`127.0.0.1:${picker.ports.epp}`);
  return {
    fleet,
    xp: picker,
    gw,
    client,
    addr: (pod) => `${fleet.ipOf(pod)}:${fleet.port}`,
    inFlight: (address) => picker.gateway.datastore.endpoint(address)!.inFlight,
    close: async () => {
      client.close();
      await close();
    },
  };
}

export const CHAT = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'gw.example', 'content-type': 'application/json' };
export const chat = (model: string): string => JSON.stringify({ model, messages: [{ role: 'user', content: 'hello there' }] });
export const set = (key: string, value: string): unknown => ({ header: { key, raw_value: Buffer.from(value) }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
export const lb = (endpoint: string): unknown => ({
  fields: { 'envoy.lb': { structValue: { fields: { 'x-gateway-destination-endpoint': { stringValue: endpoint, kind: 'stringValue' } } }, kind: 'structValue' } },
});

/** The picked endpoint, read from an answer's header mutation. */
export function destination(r: ProcessingResponse): string {
  const common = r.request_headers?.response ?? r.request_body?.response;
  const h = common?.header_mutation?.set_headers?.find((o) => o.header.key === 'x-gateway-destination-endpoint');
  assert.ok(h?.header.raw_value, `no destination in ${JSON.stringify(r)}`);
  return h.header.raw_value.toString();
}

/** The full-duplex headers answer for a pick of `model` (base `base`) at `endpoint`. */
export function pickAnswer(model: string, base: string, endpoint: string, extra: unknown[] = [], remove?: string[]): ProcessingResponse {
  const mutation: Record<string, unknown> = { set_headers: [set('x-gateway-model-name', model), set('x-gateway-base-model-name', base), set('x-gateway-destination-endpoint', endpoint), ...extra] };
  if (remove) mutation.remove_headers = remove;
  return { request_headers: { response: { header_mutation: mutation, clear_route_cache: true } }, dynamic_metadata: lb(endpoint), response: 'request_headers' } as ProcessingResponse;
}

/** The answer echoing a streamed body piece. */
export const echoed = (body: string | Buffer, eos: boolean, phase: 'request_body' | 'response_body' = 'request_body'): ProcessingResponse =>
  ({ [phase]: { response: { body_mutation: { streamed_response: { body: Buffer.from(body), ...(eos ? { end_of_stream: true } : {}) }, mutation: 'streamed_response' } } }, response: phase }) as ProcessingResponse;

export const FULL_DUPLEX: EnvoyMessageOptions = { protocol: { request: 'FULL_DUPLEX_STREAMED', response: 'FULL_DUPLEX_STREAMED' } };
