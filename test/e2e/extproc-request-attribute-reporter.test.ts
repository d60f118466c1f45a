/**
 * llm-d's request-attribute-reporter through the ext_proc picker, replayed as Envoy sends it over real gRPC (no
 * Envoy binary runs): the CEL expression over the response's usage reaches the data plane as dynamic metadata on
 * the answer to the response's last message, streamed or whole; a response without usage reports nothing.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { eppConfigMapYaml } from '../../src/config/manifests.js';
import { ExtProcClient, requestBody, requestHeaders, responseBody, responseHeaders, responseTrailers } from '../../src/extproc/ext-proc-client.js';
import type { ProcessingResponse } from '../../src/envoy/processing-messages.js';
import type { RunningExtproc } from '../../src/extproc/start-extproc.js';
import { startTestExtproc } from '../helpers/extproc.js';
import { CHAT, FULL_DUPLEX } from '../helpers/extproc-epp.js';
import { baseModelRouteYaml, podYaml, poolYaml, startFleet, tempConfig, waitFor, type Fleet, type TempConfig } from '../helpers/fleet.js';

const MODEL = 'meta/cost';
const CONFIG = `apiVersion: llm-d.ai/v1alpha1
kind: EndpointPickerConfig
plugins:
- name: total-tokens-cost-reporter
  type: request-attribute-reporter
  parameters:
    attributes:
    - key:
        namespace: envoy.lb
        name: x-gateway-inference-request-cost
      expression: |
        usage.prompt_tokens + usage.completion_tokens
      condition: "has(usage.prompt_tokens) && has(usage.completion_tokens)"
- type: queue-scorer
`;
let fleet: Fleet;
let cfg: TempConfig;
let xp: RunningExtproc;
let client: ExtProcClient;

before(async () => {
  fleet = await startFleet(253, [{ name: 'cost-0', labels: {}, model: MODEL, ttftMs: 0, itlMs: 1 }]);
  const pool = poolYaml('cost', { m: 'cost' }, fleet.port).replace('metadata:\n  name: cost', 'metadata:\n  name: cost\n  annotations: {infergate.io/endpoint-picker-config: cost}');
  cfg = await tempConfig({ 'all.yaml': [podYaml('cost-0', fleet.ipOf('cost-0'), { m: 'cost' }), pool, baseModelRouteYaml('cost', MODEL, [['cost', 1]]), eppConfigMapYaml('cost', CONFIG)].join('---\n') });
  xp = await startTestExtproc({ configPath: cfg.dir, host: '127.0.253.1' });
  client = new ExtProcClient(`127.0.253.1:${xp.ports.epp}`);
  const endpoint = `${fleet.ipOf('cost-0')}:${fleet.port}`;
  assert.ok(await waitFor(() => xp.gateway.datastore.endpoint(endpoint)?.models?.has(MODEL) === true), 'the pod was not discovered');
});

after(async () => {
  client?.close();
  await xp?.close();
  await fleet?.close();
  await cfg?.remove();
});

const event = (o: unknown): string => `data: ${JSON.stringify(o)}\n\n`;
const body = JSON.stringify({ model: MODEL, messages: [{ role: 'user', content: 'hi' }] });

/** One request and its response as Envoy plays them; the answers to the response's messages, in order. */
async function replay(contentType: string, chunks: string[], trailers = false): Promise<ProcessingResponse[]> {
  const s = client.open();
  s.send(requestHeaders(CHAT, false, FULL_DUPLEX), requestBody(body, true));
  assert.ok((await s.next()).request_headers, 'the pick');
  await s.next(); // the request body, sent on
  s.send(responseHeaders({ ':status': '200', 'content-type': contentType }, false));
  const answers = [await s.next()];
  for (const [i, c] of chunks.entries()) {
    s.send(responseBody(c, !trailers && i === chunks.length - 1));
    answers.push(await s.next());
  }
  if (trailers) {
    s.send(responseTrailers({}));
    answers.push(await s.next());
  }
  s.end();
  await s.status;
  return answers;
}

const cost = (r: ProcessingResponse | undefined): number | undefined => r?.dynamic_metadata?.fields?.['envoy.lb']?.structValue?.fields?.['x-gateway-inference-request-cost']?.numberValue;

test('a streamed response: the cost goes with the answer to its last chunk, and only there', async () => {
  const answers = await replay('text/event-stream', [
    event({ choices: [{ delta: { content: 'a' } }] }),
    event({ choices: [{ delta: {}, finish_reason: 'stop' }] }) + event({ choices: [], usage: { prompt_tokens: 17, completion_tokens: 4, total_tokens: 21 } }),
    'data: [DONE]\n\n',
  ]);
  assert.deepEqual(answers.map(cost), [undefined, undefined, undefined, 21]);
});

test('a whole answer ended by trailers: the cost goes with the trailers answer', async () => {
  const answers = await replay('application/json', [JSON.stringify({ object: 'chat.completion', choices: [], usage: { prompt_tokens: 5, completion_tokens: 6, total_tokens: 11 } })], true);
  assert.deepEqual(answers.map(cost), [undefined, undefined, 11]);
});

test('a response without usage reports nothing', async () => {
  const answers = await replay('application/json', [JSON.stringify({ object: 'chat.completion', choices: [] })]);
  assert.deepEqual(answers.map((a) => a.dynamic_metadata), [undefined, undefined]);
});
