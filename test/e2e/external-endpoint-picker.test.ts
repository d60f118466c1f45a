/**
 * Issue #13 part 3: the standalone gateway in front of an external endpoint picker over ext_proc. First
 * infergate's own `extproc` (a process, TLS with its self-signed certificate, GIE's testing filter as its
 * EndpointPickerConfig) is the EPP of two pools whose refs name its Service; `serve --epp-service-name infergate`
 * (a process) fronts it: the pod the EPP chose serves, its conformance header reaches the client, the EPP's
 * immediate response reaches the client, and with the EPP stopped FailOpen still routes while FailClose answers
 * 503, until it is back. Then a scripted EPP in this process shows what llm-d's EPP can do: fallback endpoints
 * tried in order, a plain-text 429, a pick outside the pool, no decision in time. Its answers to the response
 * headers: external-endpoint-picker-response.test.ts. Pods on 127.0.90.x, pickers and gateways on 127.0.89.x.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import OpenAI from 'openai';
import { readHeaderMap } from '../../src/envoy/header-map.js';
import { fromStruct } from '../../src/envoy/struct-value.js';
import { createLogger } from '../../src/logger.js';
import { podYaml, startTestGateway, tempConfig, waitFor } from '../helpers/fleet.js';
import { startCli, type CliProcess } from '../helpers/cli-process.js';
import { repoRoot } from '../helpers/local-kube.js';
import { HEADER, SERVED, eppService, fleetDocs, scriptedEpp, servedBy, twoPoolFleet } from '../helpers/external-pickers.js';
import { failure } from '../helpers/openai-failure.js';

const CONFORMANCE_CONFIG = join(repoRoot(), 'deploy', 'conformance', 'endpoint-picker-config.yaml');

function startExtprocCli(dir: string, eppPort = 0): Promise<CliProcess> {
  return startCli(
    ['extproc', '-f', dir, '--host', '127.0.89.2', '--epp-port', String(eppPort), '--bbr-port', '0', '--health-port', '0', '--admin-port', '0', '--epp-config', CONFORMANCE_CONFIG, '--drain-timeout', '1s'],
    /infergate ext_proc servers ready/,
  );
}

test("serve fronts infergate's extproc as an external EPP: its picks, its immediate response, FailOpen/FailClose while it is down, back when it returns", async () => {
  const fleet = await twoPoolFleet();
  const eppCfg = await tempConfig({ 'all.yaml': fleetDocs(fleet).join('---\n') });
  const procs: CliProcess[] = [];
  let gwCfg: Awaited<ReturnType<typeof tempConfig>> | undefined;
  try {
    let extproc = await startExtprocCli(eppCfg.dir);
    procs.push(extproc);
    const eppPort = Number(/ epp=(\d+)/.exec(await extproc.line(/ext_proc servers ready/))![1]);
    gwCfg = await tempConfig({ 'all.yaml': [...fleetDocs(fleet, { port: eppPort }), eppService('127.0.89.2', eppPort)].join('---\n') });
    const gateway = await startCli(['serve', '-f', gwCfg.dir, '--host', '127.0.89.1', '--port', '0', '--admin-port', '0', '--epp-service-name', 'infergate', '--drain-timeout', '1s'], /infergate listening on/);
    procs.push(gateway);
    const url = /listening on (http:\/\/[0-9.]+:\d+)/.exec(await gateway.line(/infergate listening on/))![1]!;
    await gateway.line(new RegExp(`InferencePool default/closed: .*infergate asks that endpoint picker over ext_proc at 127\\.0\\.89\\.2:${eppPort} \\(Service default/ext-epp at its clusterIP 127\\.0\\.89\\.2, port\\.number\\) for each request; failureMode FailClose`));
    const client = new OpenAI({ baseURL: `${url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const addr = (pod: string): string => `${fleet.ipOf(pod)}:${fleet.port}`;

    // The EPP decides: its testing filter pins each request to the pod the header names. The gateway's own
    // picker (llm-d's default profile) knows nothing of that header and would spread them.
    for (const pod of ['closed-0', 'closed-1']) {
      for (let i = 0; i < 4; i++) assert.equal(await servedBy(client, 'model/closed', { [HEADER]: fleet.ipOf(pod) }), addr(pod), `pinned to ${pod}`);
    }
    for (const pod of ['open-0', 'open-1']) assert.equal(await servedBy(client, 'model/open', { [HEADER]: addr(pod) }), addr(pod));
    // GIE's GatewayDestinationEndpointServed with the EPP as an external picker: its destination-endpoint-served-verifier
    // sets the conformance header in its answer to the response headers, and the gateway applies it.
    const { response: verified } = await client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { [HEADER]: fleet.ipOf('closed-0') } }).withResponse();
    assert.equal(verified.headers.get('x-conformance-test-served-endpoint'), addr('closed-0'));
    // --epp-response-header-mode skip, for a picker behind an Envoy that skips them: not asked, so no header.
    const skipping = await startCli(['serve', '-f', gwCfg.dir, '--host', '127.0.89.4', '--port', '0', '--admin-port', '0', '--epp-service-name', 'infergate', '--epp-response-header-mode', 'skip', '--drain-timeout', '1s'], /infergate listening on/);
    procs.push(skipping);
    const skipUrl = /listening on (http:\/\/[0-9.]+:\d+)/.exec(await skipping.line(/infergate listening on/))![1]!;
    const { response: unasked } = await new OpenAI({ baseURL: `${skipUrl}/v1`, apiKey: 'unused', maxRetries: 0 }).completions
      .create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { [HEADER]: fleet.ipOf('closed-0') } })
      .withResponse();
    assert.equal(unasked.headers.get(SERVED), addr('closed-0'), 'the EPP still picks');
    assert.equal(unasked.headers.get('x-conformance-test-served-endpoint'), null, 'its answer to the response headers is not asked for');
    skipping.kill('SIGTERM');
    await skipping.exited;

    // Its immediate response reaches the client as it sent it: status, OpenAI error, message.
    const refused = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }));
    assert.equal(refused.status, 503);
    assert.equal(refused.code, 'no_healthy_endpoint');
    assert.match(refused.message, /InferencePool default\/closed.*header-based-testing-filter.*removed every candidate: the request has no test-epp-endpoint-selection header/);

    // The EPP goes away.
    extproc.kill('SIGTERM');
    await extproc.exited;
    const closed = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { [HEADER]: fleet.ipOf('closed-0') } }));
    assert.equal(closed.status, 503);
    assert.equal(closed.code, 'endpoint_picker_unavailable');
    assert.match(closed.message, new RegExp(`the endpoint picker of InferencePool default/closed \\(default/ext-epp, ext_proc at 127\\.0\\.89\\.2:${eppPort}\\) is unavailable \\(UNAVAILABLE: .*failureMode is FailClose`));
    assert.equal(closed.headers?.get('retry-after'), '1');
    const openServed = new Set<string>();
    for (let i = 0; i < 6; i++) openServed.add(await servedBy(client, 'model/open', { [HEADER]: fleet.ipOf('open-0') }));
    assert.ok([...openServed].every((a) => a === addr('open-0') || a === addr('open-1')), `FailOpen: a pod of the pool, picked by infergate: ${[...openServed].join(', ')}`);
    await gateway.line(/the endpoint picker of InferencePool default\/open \(default\/ext-epp, ext_proc at .*\) is unavailable .*; FailOpen: infergate picks instead/);

    // Back on the same address: the gateway's channel reconnects and the EPP decides again.
    extproc = await startExtprocCli(eppCfg.dir, eppPort);
    procs.push(extproc);
    const back = await waitFor(async () => {
      try {
        return (await servedBy(client, 'model/closed', { [HEADER]: fleet.ipOf('closed-1') })) === addr('closed-1');
      } catch {
        return false;
      }
    }, 15_000);
    assert.ok(back, 'the EPP decides again once it is back');
  } finally {
    for (const p of procs) p.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await fleet.close();
    await eppCfg.remove();
    await gwCfg?.remove();
  }
});

test('a scripted EPP (plaintext): fallbacks tried in order and the served one reported; a plain-text 429 wrapped; a pick outside the pool and no decision in time are the failureMode', async () => {
  const fleet = await twoPoolFleet();
  // closed-9: a ready pod of the pool on an address where nothing listens.
  const dead = `127.0.90.9:${fleet.port}`;
  const epp = await scriptedEpp(fleet, dead);
  const cfg = await tempConfig({ 'all.yaml': [...fleetDocs(fleet, { port: epp.port }), podYaml('closed-9', '127.0.90.9', { pool: 'closed' }), eppService('127.0.89.3', epp.port)].join('---\n') });
  const lines: string[] = [];
  const gw = await startTestGateway(cfg.dir, { host: '127.0.89.1', eppServiceName: 'infergate', externalPickers: { plaintext: true, messageTimeoutMs: 300 }, log: createLogger('info', (l) => lines.push(l)) });
  try {
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const live = `${fleet.ipOf('closed-1')}:${fleet.port}`;

    assert.equal(await servedBy(client, 'model/closed', { 'x-script': 'fallback', 'x-request-id': 'req-fallback' }), live, 'the fallback served once the first endpoint refused');
    const s = epp.streams.at(-1)!;
    await s.ended;
    const [headers, body, response] = s.messages;
    const h = readHeaderMap(headers!.request_headers!.headers);
    assert.equal(h.get(':method'), 'POST');
    assert.equal(h.get(':path'), '/v1/completions');
    assert.equal(h.get('x-request-id'), 'req-fallback');
    assert.equal(h.get('x-gateway-model-name'), 'model/closed', "body-based routing's headers go to the EPP, as Envoy's BBR filter runs first");
    // The hint: the pool's endpoints fit to take a request (the dead one too until a request finds it dead).
    const hint = fromStruct(headers!.metadata_context!.filter_metadata!['envoy.lb.subset_hint'])['x-gateway-destination-endpoint-subset'] as string[];
    assert.ok(hint.includes(live) && hint.includes(`${fleet.ipOf('closed-0')}:${fleet.port}`) && hint.every((a) => [dead, live, `${fleet.ipOf('closed-0')}:${fleet.port}`].includes(a)), hint.join(', '));
    assert.equal(JSON.parse(body!.request_body!.body!.toString()).model, 'model/closed');
    assert.deepEqual(fromStruct(response!.metadata_context!.filter_metadata!['envoy.lb']), { [SERVED]: live }, 'the EPP hears which endpoint served');

    const shed = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { 'x-script': 'shed' } }));
    assert.equal(shed.status, 429);
    assert.equal(shed.code, 'endpoint_picker_rejected');
    assert.match(shed.message, /the endpoint picker of InferencePool default\/closed \(default\/ext-epp\) refused the request with 429: request dropped by flow control/);
    assert.equal(shed.headers?.get('x-llm-d-request-dropped-reason'), 'saturated');

    const stranger = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { 'x-script': 'stranger' } }));
    assert.equal(stranger.status, 503);
    assert.equal(stranger.code, 'endpoint_picker_unavailable');
    assert.match(stranger.message, /chose 127\.0\.90\.77:1 \(dynamic metadata envoy\.lb x-gateway-destination-endpoint\), none of which is a ready endpoint of the pool/);
    // FailOpen: the same pick outside the pool sends the request where infergate picks.
    assert.match(await servedBy(client, 'model/open', { 'x-script': 'stranger' }), /^127\.0\.90\.[45]:/);

    const hang = await failure(client.completions.create({ model: 'model/closed', prompt: 'x', max_tokens: 1 }, { headers: { 'x-script': 'hang' } }));
    assert.equal(hang.status, 503);
    assert.match(hang.message, /did not decide within 300ms \(--epp-message-timeout\)/);
    assert.ok(lines.some((l) => l.includes('the endpoint picker of InferencePool default/closed') && l.includes('FailClose: refused with 503')), lines.join('\n'));

    // As metrics: each decision by outcome (a pick outside the pool and no decision in time are both unavailable).
    const metrics = await (await fetch(`${gw.adminUrl}/metrics`)).text();
    const decisions = (pool: string, outcome: string): number => Number(new RegExp(`^infergate_external_picker_decisions_total\\{pool="default/${pool}",outcome="${outcome}"\\} (\\S+)$`, 'm').exec(metrics)?.[1] ?? 0);
    assert.deepEqual(
      [decisions('closed', 'picked'), decisions('closed', 'immediate'), decisions('closed', 'unavailable'), decisions('open', 'unavailable')],
      [1, 1, 2, 1],
      metrics.split('\n').filter((l) => l.startsWith('infergate_external_picker_decisions')).join('\n'),
    );
  } finally {
    await gw.close();
    epp.close();
    await fleet.close();
    await cfg.remove();
  }
});
