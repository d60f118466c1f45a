/**
 * GIE's conformance suite against infergate with the suite's own endpoint pickers as external pickers
 * (`--epp-service-name` naming infergate, so the pools' refs name other Services): GIE v1.6.0's lightweight EPP
 * (`pkg/lwepp`), played here by a picker of our own that answers as its code does. It keeps the pods the
 * `test-epp-endpoint-selection` header names (a bare IP: every port), else those of the gateway's subset hint,
 * picks round-robin, and ends the exchange with gRPC Unavailable when none is left. To the response headers it
 * answers with `x-conformance-test-served-endpoint` from the gateway's `envoy.lb` metadata, and sends every
 * response header back unchanged, with no append action. The pods are echo servers, as the suite's.
 * Octet 127.0.193.x: pods .10-.12, the picker .20, the gateway .30 (conformance-echo.test.ts uses .1).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { Server, ServerCredentials, status, type ServerDuplexStream } from '@grpc/grpc-js';
import { extProcServiceDefinition } from '../../src/envoy/protos.js';
import type { HeaderValue, HeaderValueOption, ProcessingRequest, ProcessingResponse } from '../../src/envoy/processing-messages.js';
import { readHeaderMap } from '../../src/envoy/header-map.js';
import { fromStruct, toStruct } from '../../src/envoy/struct-value.js';
import type { RunningGateway } from '../../src/cli/start-gateway.js';
import { podYaml, startTestGateway, tempConfig, type TempConfig } from '../helpers/fleet.js';
import { startEchoPod, type EchoAccount, type EchoPod } from '../helpers/echo-pod.js';
import { repoRoot } from '../helpers/local-kube.js';

const NS = 'inference-conformance-app-backend';
const SELECT = 'test-epp-endpoint-selection';
const RESULT = 'x-conformance-test-served-endpoint';
const BODY = '{"model": "conformance-fake-model", "prompt": "Write as if you were a critic: San Francisco"}';
const PODS = [0, 1, 2].map((i) => ({ name: `primary-inference-model-server-deployment-4b7c9-${i}`, ip: `127.0.193.${i + 10}` }));

type Call = ServerDuplexStream<ProcessingRequest, ProcessingResponse>;

/** The lightweight EPP's choice for one request: the candidates it keeps, as its request handler does. */
function candidatesOf(headers: Map<string, string>, hint: string[]): string[] {
  const selection = headers.get(SELECT);
  const named = selection !== undefined && selection !== '' ? selection.split(',').map((s) => s.trim()) : hint;
  return hint.filter((address) => {
    const ip = address.slice(0, address.lastIndexOf(':'));
    return named.includes(address) || named.includes(ip);
  });
}

function lightweightEpp(): { start: () => Promise<number>; close: () => void } {
  const server = new Server();
  let next = 0;
  server.addService(extProcServiceDefinition(), {
    Process: (call: Call) => {
      let candidates: string[] = [];
      const body: Buffer[] = [];
      const pick = (): void => {
        if (candidates.length === 0) {
          call.emit('error', { code: status.UNAVAILABLE, details: 'no endpoints available' });
          return;
        }
        const endpoint = candidates[next++ % candidates.length]!;
        call.write({
          request_headers: { response: { header_mutation: { set_headers: [{ header: { key: 'x-gateway-destination-endpoint', raw_value: Buffer.from(endpoint) } }] } } },
          dynamic_metadata: toStruct({ 'envoy.lb': { 'x-gateway-destination-endpoint': endpoint } }),
        });
      };
      call.on('data', (m: ProcessingRequest) => {
        if (m.request_headers) {
          const hint = fromStruct(m.metadata_context?.filter_metadata?.['envoy.lb.subset_hint'])['x-gateway-destination-endpoint-subset'];
          candidates = candidatesOf(readHeaderMap(m.request_headers.headers), Array.isArray(hint) ? hint.map(String) : []);
          if (m.request_headers.end_of_stream === true) pick();
        } else if (m.request_body) {
          body.push(m.request_body.body ?? Buffer.alloc(0));
          if (m.request_body.end_of_stream !== true) return;
          pick();
          call.write({ request_body: { response: { body_mutation: { streamed_response: { body: Buffer.concat(body), end_of_stream: true } } } } });
        } else if (m.response_headers) {
          const served = fromStruct(m.metadata_context?.filter_metadata?.['envoy.lb'])['x-gateway-destination-endpoint-served'];
          const echo: HeaderValueOption[] = (m.response_headers.headers?.headers ?? []).map((h: HeaderValue) => ({ header: { key: h.key, raw_value: h.raw_value ?? Buffer.from(h.value ?? '') } }));
          const set: HeaderValueOption[] = [{ header: { key: RESULT, raw_value: Buffer.from(typeof served === 'string' ? served : 'fail: missing envoy lb metadata') } }, { header: { key: 'x-went-into-resp-headers', raw_value: Buffer.from('true') } }, ...echo];
          call.write({ response_headers: { response: { header_mutation: { set_headers: set } } } });
        }
      });
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  return {
    start: () => new Promise<number>((resolve, reject) => server.bindAsync('127.0.193.20:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p)))),
    close: () => server.forceShutdown(),
  };
}

const echoes: EchoPod[] = [];
let port = 0;
let epp: ReturnType<typeof lightweightEpp>;
let cfg: TempConfig;
let gw: RunningGateway;

before(async () => {
  for (const p of PODS) {
    const e = await startEchoPod({ host: p.ip, port, pod: p.name, namespace: NS });
    echoes.push(e);
    port = e.port;
  }
  epp = lightweightEpp();
  const eppPort = await epp.start();
  const docs = [
    ...PODS.map((p) => podYaml(p.name, p.ip, { app: 'primary-inference-model-server' }, { namespace: NS })),
    `apiVersion: v1
kind: Service
metadata: {name: primary-endpoint-picker-svc, namespace: ${NS}}
spec:
  clusterIP: 127.0.193.20
  ports: [{port: ${eppPort}, appProtocol: http2}]
`,
    `apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: primary-inference-pool, namespace: ${NS}}
spec:
  selector: {matchLabels: {app: primary-inference-model-server}}
  targetPorts: [{number: ${port}}]
  endpointPickerRef: {name: primary-endpoint-picker-svc, port: {number: ${eppPort}}}
`,
    `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: httproute-for-destination-endpoint-served, namespace: ${NS}}
spec:
  parentRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: conformance-primary, namespace: inference-conformance-infra, sectionName: http}]
  hostnames: ["primary.example.com"]
  rules:
  - backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: primary-inference-pool}]
    matches: [{path: {type: PathPrefix, value: /destination-endpoint-served-test}}]
`,
  ];
  cfg = await tempConfig({ 'all.yaml': docs.join('---\n') });
  const file = join(repoRoot(), 'deploy', 'conformance', 'endpoint-picker-config.yaml');
  gw = await startTestGateway(cfg.dir, {
    host: '127.0.193.30',
    eppConfig: { text: await readFile(file, 'utf8'), file },
    eppServiceName: 'infergate',
    externalPickers: { plaintext: true, messageTimeoutMs: 5000 },
    configEdits: { allowEmptyConfig: true },
  });
});

after(async () => {
  await gw?.close();
  await cfg?.remove();
  epp?.close();
  await Promise.all(echoes.map((e) => e.close()));
});

async function send(select: string | undefined, post = true): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; echo?: EchoAccount; text: string }> {
  const headers: Record<string, string> = { host: 'primary.example.com' };
  if (select !== undefined) headers[SELECT] = select;
  const res = await request(`${gw.url}/destination-endpoint-served-test`, { method: post ? 'POST' : 'GET', headers, body: post ? BODY : null, headersTimeout: 10_000, bodyTimeout: 10_000 });
  const text = await res.body.text();
  return { status: res.statusCode, headers: res.headers, text, ...(res.statusCode === 200 ? { echo: JSON.parse(text) as EchoAccount } : {}) };
}

test('GatewayDestinationEndpointServed through the lightweight EPP: the pinned pod serves, the EPP reports it, and its echo of every header changes nothing', async () => {
  for (const p of PODS) {
    const a = await send(p.ip);
    assert.equal(a.status, 200, a.text);
    assert.equal(a.echo!.pod, p.name);
    assert.equal(a.echo!.host, 'primary.example.com');
    assert.equal(a.echo!.path, '/destination-endpoint-served-test');
    assert.equal(a.headers[RESULT], `${p.ip}:${port}`);
    assert.equal(a.headers['content-type'], 'application/json', 'sent back by the EPP, once');
    assert.equal(a.headers['x-went-into-resp-headers'], 'true');
  }
});

test('GatewayFollowingEPPRouting through the lightweight EPP: two pods named, only those serve; a GET without the header goes to any pod of the subset hint', async () => {
  const named = new Set([PODS[0]!.name, PODS[1]!.name]);
  for (let i = 0; i < 6; i++) {
    const a = await send(`${PODS[0]!.ip},${PODS[1]!.ip}`);
    assert.equal(a.status, 200, a.text);
    assert.ok(named.has(a.echo!.pod), a.echo!.pod);
  }
  const get = await send(undefined, false);
  assert.equal(get.status, 200, get.text);
  assert.ok(PODS.some((p) => p.name === get.echo!.pod));
});

test('a header naming no pod of the pool: the lightweight EPP has no candidate and answers Unavailable; the FailClose pool refuses with a 5xx', async () => {
  const a = await send('127.0.193.99');
  assert.ok(a.status >= 500 && a.status <= 599, `${a.status} ${a.text}`);
  assert.match(a.text, /"error":/);
});
