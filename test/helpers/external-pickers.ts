/**
 * What the tests of `serve` in front of an external endpoint picker share (test/e2e/external-endpoint-picker*.test.ts):
 * two pools of simulated pods on 127.0.90.x (closed-0/1 FailClose, open-0/1 FailOpen), their YAML, and a scripted
 * EPP on 127.0.89.3 that answers as llm-d's could.
 */
import type OpenAI from 'openai';
import { Server, ServerCredentials, type ServerDuplexStream } from '@grpc/grpc-js';
import { extProcServiceDefinition } from '../../src/envoy/protos.js';
import type { HeaderAppendAction, ProcessingRequest, ProcessingResponse } from '../../src/envoy/processing-messages.js';
import { readHeaderMap } from '../../src/envoy/header-map.js';
import { fromStruct, toStruct } from '../../src/envoy/struct-value.js';
import { baseModelRouteYaml, podYaml, startFleet, type Fleet } from './fleet.js';

export const HEADER = 'test-epp-endpoint-selection';
export const SERVED = 'x-gateway-destination-endpoint-served';
/** A pod that speaks only h2c, in pool h2 (appProtocol kubernetes.io/h2c) of the response-headers test. */
export const H2C_POD = '127.0.90.20';
/** A pod (pool flaky) that sends a completion's headers, then drops the connection 50 ms later. */
export const FLAKY_POD = '127.0.90.22';

/**
 * An InferencePool of the pods labelled `pool: NAME` (or `pool: selects`), its ref naming Service ext-epp when
 * `epp` is given; `appProtocol` and `annotations` as the pool declares them.
 */
export function pool(
  name: string,
  port: number,
  epp?: { port: number; failureMode: 'FailOpen' | 'FailClose' },
  o: { selects?: string; appProtocol?: string; annotations?: string } = {},
): string {
  return `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata:
  name: ${name}
${o.annotations ? `  annotations: {${o.annotations}}\n` : ''}spec:
  selector: {matchLabels: {pool: ${o.selects ?? name}}}
  targetPorts: [{number: ${port}}]
${o.appProtocol ? `  appProtocol: ${o.appProtocol}\n` : ''}${epp ? `  endpointPickerRef: {name: ext-epp, port: {number: ${epp.port}}, failureMode: ${epp.failureMode}}\n` : ''}`;
}

/** The EPP's Service as the gateway's files declare it: its clusterIP is where the gateway dials. */
export function eppService(ip: string, port: number): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ext-epp}
spec:
  clusterIP: ${ip}
  ports: [{name: grpc-ext-proc, port: ${port}}]
`;
}

/** Pods closed-0/1 (model/closed) and open-0/1 (model/open) on 127.0.90.2-5. */
export async function twoPoolFleet(): Promise<Fleet> {
  return startFleet(90, [
    { name: 'closed-0', labels: {}, model: 'model/closed', ttftMs: 0, itlMs: 1 },
    { name: 'closed-1', labels: {}, model: 'model/closed', ttftMs: 0, itlMs: 1 },
    { name: 'open-0', labels: {}, model: 'model/open', ttftMs: 0, itlMs: 1 },
    { name: 'open-1', labels: {}, model: 'model/open', ttftMs: 0, itlMs: 1 },
  ]);
}

export function fleetDocs(fleet: Fleet, epp?: { port: number }): string[] {
  return [
    ...['closed-0', 'closed-1'].map((n) => podYaml(n, fleet.ipOf(n), { pool: 'closed' })),
    ...['open-0', 'open-1'].map((n) => podYaml(n, fleet.ipOf(n), { pool: 'open' })),
    pool('closed', fleet.port, epp && { port: epp.port, failureMode: 'FailClose' }),
    pool('open', fleet.port, epp && { port: epp.port, failureMode: 'FailOpen' }),
    baseModelRouteYaml('closed', 'model/closed', [['closed', 1]]),
    baseModelRouteYaml('open', 'model/open', [['open', 1]]),
  ];
}

/** Who served a completion of `model` (x-gateway-destination-endpoint-served), with `headers` on the request. */
export async function servedBy(client: OpenAI, model: string, headers: Record<string, string> = {}): Promise<string> {
  const { response } = await client.completions.create({ model, prompt: 'Write as if you were a critic: San Francisco', max_tokens: 1 }, { headers }).withResponse();
  return response.headers.get(SERVED) ?? '(none)';
}

export type Call = ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

/**
 * The scripted EPP's answer to the response headers: by default GIE's conformance header naming the endpoint that
 * served (from the metadata the gateway sends), a session token as llm-d's session affinity sets one, the status it
 * saw added if absent, and the pod's `x-inference-pod` removed; `mute-response`, `mute-deadline` and `flaky` never
 * answer; `replace-response` answers with a plain-text 503 instead; `owned` asks for a 203 and for changes the
 * gateway keeps to itself.
 */
function answerResponse(call: Call, script: string, m: ProcessingRequest): void {
  const set = (key: string, value: string, append_action?: HeaderAppendAction) => ({ header: { key, raw_value: Buffer.from(value) }, ...(append_action ? { append_action } : {}) });
  if (script === 'mute-response' || script === 'mute-deadline' || script === 'flaky') return;
  if (script === 'replace-response') {
    call.write({ immediate_response: { status: { code: 503 }, body: Buffer.from('endpoint went away mid-answer') } });
    return;
  }
  if (script === 'owned') {
    call.write({ response_headers: { response: { header_mutation: { set_headers: [set(':status', '203'), set('content-length', '1', 'OVERWRITE_IF_EXISTS_OR_ADD'), set('x-request-id', 'forged'), set('x-bad', 'a\r\nb'), set('x-kept', 'yes')] } } } });
    return;
  }
  const served = fromStruct(m.metadata_context!.filter_metadata!['envoy.lb'])['x-gateway-destination-endpoint-served'] as string;
  const upstream = readHeaderMap(m.response_headers!.headers);
  const status = upstream.get(':status');
  call.write({
    response_headers: {
      response: {
        header_mutation: {
          // GIE's lightweight EPP also sends every response header back, unchanged and with no append action.
          set_headers: [set('x-conformance-test-served-endpoint', served), set('x-session-token', `token-for-${served}`, 'OVERWRITE_IF_EXISTS_OR_ADD'), set('x-upstream-status', status ?? '?', 'ADD_IF_ABSENT'), set('content-type', upstream.get('content-type') ?? '')],
          remove_headers: ['x-inference-pod'],
        },
      },
    },
  });
}

/**
 * An EPP scripted by the request's `x-script` header, as llm-d's could answer: `fallback` picks a pod that
 * refuses connections first, then a live one; `shed` answers 429 in plain text with llm-d's dropped-reason
 * header; `stranger` picks an address outside the pool; `hang` never answers; `h2c` picks the h2c pod, `flaky`
 * the pod that drops its connection after its headers; any other picks closed-1 (`skip-response` with a
 * mode_override that skips the response headers). Every stream is recorded. The response headers are answered
 * as `answerResponse` says. It listens on `host` (127.0.89.3 unless a test file has its own octets).
 */
export async function scriptedEpp(fleet: Fleet, dead: string, host = '127.0.89.3') {
  const streams: { messages: ProcessingRequest[]; ended: Promise<void> }[] = [];
  const live = `${fleet.ipOf('closed-1')}:${fleet.port}`;
  const server = new Server();
  server.addService(extProcServiceDefinition(), {
    Process: (call: Call) => {
      let done!: () => void;
      const seen = { messages: [] as ProcessingRequest[], ended: new Promise<void>((r) => (done = r)) };
      streams.push(seen);
      let script = '';
      call.on('data', (m: ProcessingRequest) => {
        seen.messages.push(m);
        if (m.response_headers) return answerResponse(call, script, m);
        if (m.request_headers) script = readHeaderMap(m.request_headers.headers).get('x-script') ?? '';
        if (m.request_body?.end_of_stream !== true) return;
        if (script === 'hang') return;
        if (script === 'shed') {
          call.write({ immediate_response: { status: { code: 429 }, body: Buffer.from('request dropped by flow control'), headers: { set_headers: [{ header: { key: 'x-llm-d-request-dropped-reason', raw_value: Buffer.from('saturated') } }] } } });
          return;
        }
        const pick = script === 'fallback' ? `${dead},${live}` : script === 'stranger' ? '127.0.90.77:1' : script === 'h2c' ? `${H2C_POD}:${fleet.port}` : script === 'flaky' ? `${FLAKY_POD}:${fleet.port}` : live;
        call.write({
          request_headers: { response: { header_mutation: { set_headers: [{ header: { key: 'x-gateway-destination-endpoint', raw_value: Buffer.from(pick) } }] } } },
          dynamic_metadata: toStruct({ 'envoy.lb': { 'x-gateway-destination-endpoint': pick } }),
          ...(script === 'skip-response' ? { mode_override: { response_header_mode: 'SKIP' as const } } : {}),
        });
        call.write({ request_body: { response: { body_mutation: { streamed_response: { body: m.request_body.body ?? Buffer.alloc(0), end_of_stream: true } } } } });
      });
      call.on('end', () => call.end());
      call.on('close', () => done());
      call.on('error', () => undefined);
    },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  return { port, streams, close: () => server.forceShutdown() };
}
