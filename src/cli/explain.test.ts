/** explainRequest from files: what `infergate explain -f` prints when the pods are not asked (--no-discover). */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { repoRoot } from '../../test/helpers/local-kube.js';
import { Command } from 'commander';
import { explainRequest, registerExplainCommand } from './explain.js';
import { renderPlan } from './render-plan.js';
import type { RoutePlan } from '../plan/plan-request.js';

test('explain --no-discover: a pick with no endpoint known to serve the model says discovery is off, not "retry shortly"', async () => {
  const plan = await explainRequest({ configPath: join(repoRoot(), 'examples/seed-demo'), body: '{"model":"google/gemma-2b-it","prompt":"x"}', headers: [], discover: false });
  assert.equal(plan.error?.code, 'no_healthy_endpoint');
  assert.equal(plan.error.retry, undefined);
  const text = renderPlan(plan).join('\n');
  assert.match(text, /Discovery is off \(--no-discover\): no pod is asked GET \/v1\/models, so models come from allowlist ConfigMaps only/);
  assert.doesNotMatch(text, /Retry shortly/);
});

test('explain sends its --body as application/json, as clients do, unless a --header names another Content-Type', async () => {
  const configPath = join(repoRoot(), 'examples/seed-demo');
  const json = await explainRequest({ configPath, body: 'notjson', headers: [], discover: false });
  assert.equal(json.error?.code, 'invalid_json');
  assert.match(json.error.message, /\(Content-Type: application\/json\)$/);
  assert.doesNotMatch(json.error.message, /no Content-Type header/);
  const text = await explainRequest({ configPath, body: 'notjson', headers: ['Content-Type: text/plain'], discover: false });
  assert.match(text.error?.message ?? '', /The request's Content-Type is `text\/plain`/);
});

test('explain of a request on a stored response says it knows no response ids, not only that there is no model', async () => {
  const configPath = join(repoRoot(), 'examples/seed-demo');
  for (const [method, path] of [['GET', '/v1/responses/resp_abc'], ['POST', '/v1/responses/resp_abc/cancel']] as const) {
    const plan = await explainRequest({ configPath, method, path, body: '', headers: [], discover: false });
    assert.equal(plan.error?.code, 'route_not_found', `${method} ${path}: ${plan.error?.message}`);
    assert.match(renderPlan(plan).join('\n'), new RegExp(`${method} on stored response resp_abc: no response ids are known here \\(a running gateway routes it to the endpoint that created the response\\)`));
  }
});

test('explain says a rewrite among several targets is a weighted draw (a real request may draw another), and not for a single target', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-explain-rewrite-'));
  try {
    await writeFile(
      join(dir, 'config.yaml'),
      `apiVersion: v1
kind: ConfigMap
metadata: {name: gemma, labels: {inference.networking.k8s.io/bbr-managed: "true"}}
data: {baseModel: google/gemma-2b-it, adapters: "- sql-v1\\n- sql-v2\\n"}
---
apiVersion: v1
kind: Pod
metadata: {name: gemma-0, labels: {app: gemma}}
status: {podIP: 127.0.222.40, conditions: [{type: Ready, status: "True"}]}
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: gemma}
spec: {selector: {matchLabels: {app: gemma}}, targetPorts: [{number: 8000}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gemma}
spec: {rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: gemma}]}]}
---
apiVersion: llm-d.ai/v1alpha2
kind: InferenceModelRewrite
metadata: {name: sql}
spec:
  poolRef: {name: gemma}
  rules:
    - matches: [{model: {value: sql}}]
      targets: [{modelRewrite: sql-v1, weight: 90}, {modelRewrite: sql-v2, weight: 10}]
    - matches: [{model: {value: sql-alias}}]
      targets: [{modelRewrite: sql-v1}]
`,
    );
    const explain = async (model: string): Promise<string> => renderPlan(await explainRequest({ configPath: dir, body: JSON.stringify({ model, prompt: 'x' }), headers: [], discover: false })).join('\n');
    assert.match(await explain('sql'), /model `sql` rewritten to `sql-v(1` \(weight 90 of 100\)|2` \(weight 10 of 100\)) by InferenceModelRewrite default\/sql rule 0/);
    assert.match(await explain('sql-alias'), /model `sql-alias` rewritten to `sql-v1` by InferenceModelRewrite default\/sql rule 1/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('explain --epp-service-name, as serve: a pool whose endpointPickerRef names another Service is explained as that picker\'s; one naming the flag\'s, as infergate\'s', async () => {
  const configPath = join(repoRoot(), 'examples/seed-demo');
  const body = '{"model":"google/gemma-2b-it","prompt":"x"}';
  const external = renderPlan(await explainRequest({ configPath, body, headers: [], discover: false, eppServiceName: 'infergate' })).join('\n');
  assert.match(external, /endpoints are picked by the external endpoint picker llm-d\/gaie-pattern2-epp over ext_proc at gaie-pattern2-epp\.llm-d\.svc:9002/);
  const own = renderPlan(await explainRequest({ configPath, body, headers: [], discover: false, eppServiceName: 'gaie-pattern2-epp' })).join('\n');
  assert.doesNotMatch(own, /external endpoint picker/);
});

test('explain --help gives --body and --header one default each, in words (it printed \'(default: none, ...) (default: "")\' and \'(default: [])\')', async () => {
  const program = new Command('infergate').exitOverride();
  registerExplainCommand(program);
  const cmd = program.commands[0]!;
  const help = cmd.helpInformation().replace(/\s+/g, ' ');
  assert.match(help, /--body <json> the request body, e\.g\. '\{"model":"gemma-sql-lora","prompt":"hi"\}' \(default: none, as a GET such as --method GET --path \/v1\/models sends\) --header/);
  assert.match(help, /--header <header> a request header "name: value" \(repeatable\) \(default: none\) --method/);
  assert.doesNotMatch(help, /default: ""|default: \[\]/);
  // The values are still the empty body and the headers given, each --header added to the last.
  cmd.action(() => undefined);
  await program.parseAsync(['explain', '--header', 'a: 1', '--header', 'b: 2'], { from: 'user' });
  assert.deepEqual([cmd.opts<{ body: string }>().body, cmd.opts<{ header: string[] }>().header], ['', ['a: 1', 'b: 2']]);
});

test('explain -f on a directory with no YAML file in it refuses, saying what it holds (it explained an empty configuration: 404 for every model)', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'explain-no-yaml-'));
  try {
    await mkdir(join(dir, 'base'));
    await writeFile(join(dir, 'base', 'pool.yaml'), 'kind: InferencePool\n');
    await writeFile(join(dir, 'README.md'), 'manifests\n');
    await assert.rejects(
      () => explainRequest({ configPath: dir, body: '{"model":"m"}', headers: [], discover: false }),
      (e: Error) => e.message === `${dir}: no .yaml or .yml files to explain the request against; subdirectories are not read (base/): give one of them to -f, or for a kustomize tree the output of kubectl kustomize DIR saved to a file; it holds README.md, which -f does not read (only *.yaml and *.yml)`,
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test("explain of a pool that disaggregates prints the prefill pod the decode pod's sidecar is sent to, under the pick", async () => {
  const { endpoint } = await import('../epp/framework/test-fixtures.js');
  const decode = endpoint('10.7.0.1').pod('d-0').build();
  const plan = { steps: [], routingHeaders: {}, priority: 0, tracing: false, schedule: { endpoint: decode, results: new Map(), requestHeaders: { 'x-prefiller-host-port': '10.7.0.2:8000', 'x-encoder-hosts-ports': undefined } } } as unknown as RoutePlan;
  const text = renderPlan(plan).join('\n');
  assert.match(text, /pick: 10\.7\.0\.1:8000 \(pod default\/d-0\)\n {3}x-prefiller-host-port: 10\.7\.0\.2:8000$/);
  assert.doesNotMatch(text, /x-encoder-hosts-ports/);
});
