/**
 * BBR then the EPP, chained as Envoy chains the two ext_proc filters (BBR's header mutations and body go
 * to the EPP; routes are matched again in between), over TLS as deployed by default; then the request is
 * proxied to the simulated pod the EPP chose, and its response is fed back through the EPP's response
 * phase. This test plays Envoy's part: no Envoy binary runs here.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { allowlistYaml, baseModelRouteYaml, podYaml, poolYaml } from '../../src/config/manifests.js';
import {
  ExtProcClient,
  applyHeaderMutation,
  requestBody,
  requestBodyChunks,
  requestHeaders,
  responseBody,
  responseHeaders,
  type ProcessingStreamClient,
} from '../../src/extproc/ext-proc-client.js';
import type { BodySendMode, ProcessingResponse } from '../../src/envoy/processing-messages.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { startSimulator, type RunningSimulator } from '../../src/sim/simulator.js';
import { startTestExtproc } from '../helpers/extproc.js';
import { tempConfig, type TempConfig } from '../helpers/fleet.js';

const GEMMA = 'google/gemma-2b-it';
const PHI = 'microsoft/Phi-3-mini-4k-instruct';

let sims: RunningSimulator[] = [];
let cfg: TempConfig;
let xp: RunningExtproc;
let bbr: ExtProcClient;
let epp: ExtProcClient;

before(async () => {
  // Addresses 127.0.45.100+ so this file never collides with extproc-epp's fleet (127.0.45.2+).
  const gemma = await startSimulator({ host: '127.0.45.100', port: 0, podName: 'gemma-0', model: GEMMA, loras: ['gemma-sql-lora'], ttftMs: 0, itlMs: 1, prefillTimePerTokenMs: 0, mode: 'echo' });
  const phi = await startSimulator({ host: '127.0.45.101', port: gemma.port, podName: 'phi-0', model: PHI, loras: ['phi-code-lora'], ttftMs: 0, itlMs: 1, prefillTimePerTokenMs: 0, mode: 'echo' });
  sims = [gemma, phi];
  cfg = await tempConfig({
    'all.yaml': [
      podYaml('gemma-0', gemma.host, { model: 'gemma' }),
      podYaml('phi-0', phi.host, { model: 'phi' }),
      poolYaml('gemma', { model: 'gemma' }, gemma.port),
      poolYaml('phi', { model: 'phi' }, gemma.port),
      baseModelRouteYaml('gemma', GEMMA, [['gemma', 1]]),
      baseModelRouteYaml('phi', PHI, [['phi', 1]]),
      allowlistYaml('gemma', GEMMA, ['gemma-sql-lora']),
    ].join('---\n'),
  });
  // --secure-serving is the default, as in GIE: the chain runs over TLS with the self-signed certificate.
  xp = await startTestExtproc({ configPath: cfg.dir, secureServing: true });
  const tls = { rootCert: xp.certificate!.cert };
  bbr = new ExtProcClient(`127.0.0.1:${xp.ports.bbr}`, tls);
  epp = new ExtProcClient(`127.0.0.1:${xp.ports.epp}`, tls);
});

after(async () => {
  bbr?.close();
  epp?.close();
  await xp?.close();
  await Promise.all(sims.map((s) => s.close()));
  await cfg?.remove();
});

/** Plays one filter's request phase and returns the headers and body Envoy would pass on. */
async function runFilter(s: ProcessingStreamClient, headers: Record<string, string>, body: Buffer, mode: BodySendMode): Promise<{ headers: Record<string, string>; body: Buffer; answers: ProcessingResponse[] }> {
  const answers: ProcessingResponse[] = [];
  if (mode === 'BUFFERED') {
    s.send(requestHeaders(headers, false, { protocol: { request: 'BUFFERED', response: 'BUFFERED' } }));
    answers.push(await s.next());
    s.send(requestBody(body, true));
    const r = await s.next();
    answers.push(r);
    assert.ok(!r.immediate_response, JSON.stringify(r));
    const replaced = r.request_body?.response?.body_mutation?.body;
    return { headers: applyHeaderMutation(headers, r), body: replaced ?? body, answers };
  }
  // Envoy forwards the body in the chunks it received; 16 KiB is an HTTP/2 frame's worth.
  s.send(requestHeaders(headers, false, { protocol: { request: 'FULL_DUPLEX_STREAMED', response: 'FULL_DUPLEX_STREAMED' } }), ...requestBodyChunks(body, 16 * 1024));
  const h = await s.next();
  answers.push(h);
  assert.equal(h.response, 'request_headers', JSON.stringify(h));
  const chunks: Buffer[] = [];
  for (;;) {
    const r = await s.next();
    answers.push(r);
    const streamed = r.request_body?.response?.body_mutation?.streamed_response;
    assert.ok(streamed, JSON.stringify(r));
    chunks.push(streamed.body ?? Buffer.alloc(0));
    if (streamed.end_of_stream) break;
  }
  return { headers: applyHeaderMutation(headers, h), body: Buffer.concat(chunks), answers };
}

for (const mode of ['FULL_DUPLEX_STREAMED', 'BUFFERED'] as const) {
  for (const [model, base, pod] of [['gemma-sql-lora', GEMMA, 'gemma-0'], [PHI, PHI, 'phi-0'], ['phi-code-lora', PHI, 'phi-0']] as const) {
    test(`${mode}: BBR -> route refresh -> EPP -> the chosen pod serves ${model}`, async () => {
      // A long prompt, so the body spans several chunks both ways.
      const body = Buffer.from(JSON.stringify({ model, messages: [{ role: 'user', content: `${'background '.repeat(6000)}say ok` }], max_tokens: 3 }));
      const client = {
        ':method': 'POST',
        ':path': '/v1/chat/completions',
        ':authority': 'inference.example',
        ':scheme': 'https',
        'content-type': 'application/json',
        'content-length': String(body.length),
        'x-request-id': `chain-${mode}-${model}`,
        // A client trying to pick its own pool and pod: BBR and the EPP must overrule it.
        'x-gateway-base-model-name': 'someone/else',
        'x-gateway-destination-endpoint': '10.0.0.1:8000',
      };
      const bbrStream = bbr.open();
      const afterBbr = await runFilter(bbrStream, client, body, mode);
      assert.equal(afterBbr.headers['x-gateway-model-name'], model);
      assert.equal(afterBbr.headers['x-gateway-base-model-name'], base, 'the header the HTTPRoutes match after the route refresh');
      assert.equal(afterBbr.answers.filter((a) => (a.request_headers ?? a.request_body)?.response?.clear_route_cache === true).length, 1, 'BBR asks for a route refresh once');
      assert.ok(afterBbr.body.equals(body));

      const eppStream = epp.open();
      const afterEpp = await runFilter(eppStream, afterBbr.headers, afterBbr.body, mode);
      const destination = afterEpp.headers['x-gateway-destination-endpoint']!;
      const sim = sims.find((s) => `${s.host}:${s.port}` === destination);
      assert.ok(sim, `the EPP chose ${destination}, not a simulated pod`);
      assert.equal(sim.options.podName, pod);
      const decision = afterEpp.answers.find((a) => a.dynamic_metadata);
      assert.equal(decision?.dynamic_metadata?.fields?.['envoy.lb']?.structValue?.fields?.['x-gateway-destination-endpoint']?.stringValue, destination, 'header and envoy.lb agree');
      assert.equal(xp.gateway.datastore.endpoint(destination)!.inFlight, 1);

      // The ORIGINAL_DST cluster's part: send the request where the header says.
      const upstreamHeaders = Object.fromEntries(Object.entries(afterEpp.headers).filter(([k]) => !k.startsWith(':') && k !== 'content-length'));
      const before = sim.stats().totalRequests;
      const res = await fetch(`http://${destination}${client[':path']}`, { method: 'POST', headers: upstreamHeaders, body: afterEpp.body });
      const text = await res.text();
      assert.equal(res.status, 200, text);
      const json = JSON.parse(text) as { model: string; choices: { message: { content: string } }[] };
      assert.equal(json.model, model, 'the pod served the model the client asked for');
      assert.equal(res.headers.get('x-inference-pod'), pod);
      assert.equal(sim.stats().totalRequests, before + 1);

      // The response phase back through the EPP.
      const respHeaders = { ':status': String(res.status), 'content-type': res.headers.get('content-type') ?? 'application/json' };
      eppStream.send(responseHeaders(respHeaders, false));
      const rh = await eppStream.next();
      assert.equal(applyHeaderMutation({}, { request_headers: rh.response_headers ?? {} })['x-gateway-destination-endpoint-served'], destination);
      eppStream.send(responseBody(text, true));
      const rb = await eppStream.next();
      if (mode === 'FULL_DUPLEX_STREAMED') assert.equal(rb.response_body?.response?.body_mutation?.streamed_response?.body?.toString(), text, 'the response body is passed back');
      else assert.deepEqual(rb, { response_body: {}, response: 'response_body' });
      assert.equal(xp.gateway.datastore.endpoint(destination)!.inFlight, 0, 'released at the end of the response');
      bbrStream.end();
      eppStream.end();
      assert.equal((await bbrStream.status).code, 0);
      assert.equal((await eppStream.status).code, 0);
    });
  }
}
