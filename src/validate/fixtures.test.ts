/** One fixture per finding: each YAML under test/fixtures/validate/ -> the finding codes validate reports. */
import assert from 'node:assert/strict';
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { FINDING_CODES } from './checks.js';
import { readFilesInput } from './read-files.js';
import { renderText } from './render-findings.js';
import { runChecks, validate } from './run-validate.js';
import { buildContext } from './validation-context.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/validate/', import.meta.url));
const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

/** Fixture file -> the codes of its findings, sorted (severity in front). */
const CASES: Record<string, string[]> = {
  'clean.yaml': [],
  'field-report-missing-allowlist.yaml': ['warning base-model-not-allowlisted', 'warning base-model-not-allowlisted'],
  'field-report-unified-pool.yaml': ['warning pool-mixed-base-models'],
  'invalid-object.yaml': ['error invalid-object'],
  'invalid-regex.yaml': ['error invalid-object', 'error invalid-object'],
  'duplicate-object.yaml': ['error duplicate-object'],
  'allowlist-adapter-two-bases.yaml': ['error allowlist-adapter-two-bases'],
  'allowlist-adapter-is-base.yaml': ['error allowlist-adapter-is-base'],
  'allowlist-lenient-entries.yaml': ['warning config-warning', 'warning config-warning'],
  'allowlist-base-not-served.yaml': ['warning allowlist-base-not-served'],
  'backend-pool-missing.yaml': ['error backend-pool-missing'],
  'backend-not-inference-pool.yaml': ['warning backend-not-inference-pool'],
  'backend-cross-namespace.yaml': ['warning backend-cross-namespace'],
  'backend-legacy-group.yaml': ['warning backend-legacy-group'],
  'model-not-served.yaml': ['error model-not-served'],
  'rewrite-target-not-served.yaml': ['error model-not-served'],
  'base-model-not-served.yaml': ['error base-model-not-served'],
  'base-model-header-names-adapter.yaml': ['error base-model-not-served'],
  'pool-lacks-model.yaml': ['error pool-lacks-model'],
  'route-shadowed.yaml': ['warning route-shadowed', 'warning route-shadowed'],
  'route-shadowed-other-gateway.yaml': ['warning route-shadowed'],
  'pool-no-ready-pods.yaml': ['error pool-no-ready-pods'],
  'pool-pods-not-ready.yaml': ['error pool-no-ready-pods'],
  'objective-pool-missing.yaml': ['error objective-pool-missing'],
  'rewrite-pool-missing.yaml': ['error rewrite-pool-missing'],
  'legacy-group-ignored.yaml': ['warning legacy-group-ignored', 'warning legacy-group-ignored'],
  'epp-config-missing.yaml': ['error epp-config-missing'],
  'epp-config-invalid.yaml': ['error epp-config-invalid'],
  'epp-config-warning.yaml': ['warning epp-config-warning'],
  'profile-no-pods.yaml': ['error profile-no-pods'],
  'disagg-stage-no-pods.yaml': ['warning disagg-stage-no-pods'],
  'kv-events-not-received.yaml': ['warning kv-events-not-received', 'warning kv-events-not-received', 'warning kv-events-not-received'],
  'config-warning.yaml': ['warning config-warning'],
  'api-key-missing.yaml': ['error api-key-missing'],
  'api-key-annotation-invalid.yaml': ['error api-key-annotation-invalid'],
  'api-key-annotation-unknown.yaml': ['warning api-key-annotation-unknown'],
  'upstream-annotations.yaml': ['error config-error', 'error config-error', 'warning config-warning'],
  'unknown-kind.yaml': ['warning config-warning', 'warning config-warning'],
  'unknown-field.yaml': ['error unknown-field', 'warning unknown-field', 'warning unknown-field'],
  'rule-no-backend.yaml': ['error rule-no-backend', 'error rule-no-backend'],
  'route-filter-ignored.yaml': ['warning route-filter-ignored', 'warning route-filter-ignored'],
  'v1alpha2-pool.yaml': ['error invalid-object', 'error invalid-object', 'error invalid-object', 'warning unknown-field', 'warning unknown-field', 'warning unknown-field'],
};

test('every fixture gives exactly its findings, each naming the object, field and fix', async () => {
  const files = (await readdir(FIXTURES)).filter((f) => f.endsWith('.yaml')).sort();
  assert.deepEqual(files, Object.keys(CASES).sort(), 'every fixture has a case and every case a fixture');
  for (const [file, want] of Object.entries(CASES)) {
    const { findings } = await validate({ configPath: join(FIXTURES, file) });
    assert.deepEqual(findings.map((f) => `${f.severity} ${f.code}`).sort(), want, file);
    for (const f of findings) {
      assert.ok(FINDING_CODES.includes(f.code), `${file}: ${f.code} is registered`);
      assert.ok(f.message.length > 20 && f.fix.length > 20, `${file}: ${f.code} says what is wrong and how to fix it`);
      if (f.code !== 'config-warning') {
        assert.ok(f.object && f.location, `${file}: ${f.code} names the object and where it is declared`);
        assert.equal(f.location.file, join(FIXTURES, file));
      }
    }
  }
});

test('every warning the snapshot builder logs comes out as a finding on the object it names', async () => {
  for (const file of Object.keys(CASES)) {
    const input = await readFilesInput(join(FIXTURES, file));
    const ctx = buildContext(input, {});
    const findings = runChecks(ctx);
    for (const w of ctx.snapshot.warnings) {
      // The one deliberate difference: a pool whose pods are still to come from a Deployment in the files.
      const podless = /^InferencePool (\S+) selects no pods/.exec(w)?.[1];
      if (podless !== undefined && ctx.members.get(podless)?.some((s) => s.template && s.ready)) continue;
      assert.ok(findings.some((f) => f.object && w.includes(`${f.object.namespace}/${f.object.name}`)), `${file}: "${w}" has a finding`);
    }
  }
});

test('every finding code has a fixture (kind-forbidden and picker-ref-missing, --kube only, probe-failed and probe-refused, and file-not-read, about a directory, are tested beside their code)', () => {
  const covered = new Set(Object.values(CASES).flat().map((c) => c.split(' ')[1]));
  assert.deepEqual(FINDING_CODES.filter((c) => !covered.has(c)), ['file-not-read', 'kind-forbidden', 'picker-ref-missing', 'probe-failed', 'probe-refused']);
});

test('a P/D pool: a profile whose role filters keep none of its pods names each pod with its role and the ConfigMap to correct', async () => {
  const decode = (await validate({ configPath: join(FIXTURES, 'profile-no-pods.yaml') })).findings[0]!;
  assert.equal(decode.field, 'metadata.annotations.infergate.io/endpoint-picker-config');
  assert.match(decode.message, /^scheduling profile "decode" \(the decode stage\) keeps none of the pool's ready model servers: its decode-filter keeps only pods whose label llm-d\.ai\/role is decode, .*\(or missing\), and the pool's are Deployment llm-d\/qwen-decode \(pod template\) with llm-d\.ai\/role: prefill, /);
  assert.match(decode.message, /every request routed to this pool gets 503 no_healthy_endpoint/);
  assert.match(decode.fix, /llm-d\.ai\/role: decode, or correct the profile's filters in ConfigMap llm-d\/qwen-pd/);
  const prefill = (await validate({ configPath: join(FIXTURES, 'disagg-stage-no-pods.yaml') })).findings[0]!;
  assert.match(prefill.message, /^scheduling profile "prefill" \(the prefill stage\) .* Deployment llm-d\/qwen-prefill \(pod template\) with llm-d\.ai\/role: prefil\. .*never disaggregated|the pool is not disaggregated/);
});

test('a precise-prefix pool: each pod the gateway would get no KV events from, with why and the flag to set', async () => {
  const { findings } = await validate({ configPath: join(FIXTURES, 'kv-events-not-received.yaml') });
  assert.deepEqual(findings.map((f) => `${f.object?.name} ${f.field}`), ['q-0 spec.containers', 'q-1 spec.containers', 'q-2 spec.containers']);
  assert.match(findings[0]!.message, /^is selected by InferencePool llm-d\/qwen, whose ConfigMap llm-d\/qwen-precise scores by the pods' KV events \(precise-prefix-cache-producer\), but its vLLM args have no --kv-events-config/);
  assert.match(findings[0]!.fix, /--kv-events-config '\{"enable_kv_cache_events":true,"publisher":"zmq","endpoint":"tcp:\/\/\*:5557"/);
  assert.match(findings[1]!.message, /binds port 5556, while the gateway subscribes to port 5557 \(kvEventsConfig\.podDiscoveryConfig\.socketPort\)/);
  assert.match(findings[2]!.message, /topic is "" \(vLLM's default\).*every message is dropped/);
});

test('-f - reads standard input: its documents are located in <stdin>; empty input or a terminal is a read failure', async () => {
  const text = await readFile(join(FIXTURES, 'backend-pool-missing.yaml'), 'utf8');
  const half = Math.floor(text.length / 2);
  const { findings } = await validate({ configPath: '-', stdin: Readable.from([Buffer.from(text.slice(0, half)), Buffer.from(text.slice(half))]) });
  assert.deepEqual(findings.map((f) => `${f.code} ${f.location?.file}`), ['backend-pool-missing <stdin>']);
  await assert.rejects(validate({ configPath: '-', stdin: Readable.from(['\n  \n']) }), { name: 'SourceUnreadableError', message: /standard input was empty/ });
  await assert.rejects(validate({ configPath: '-', stdin: Object.assign(Readable.from([]), { isTTY: true }) }), { name: 'SourceUnreadableError', message: /standard input, which is a terminal here: pipe it in/ });
});

test('a rule with filters is one finding at its first filter, naming every filter, those of its backendRefs too', async () => {
  const { findings } = await validate({ configPath: join(FIXTURES, 'route-filter-ignored.yaml') });
  assert.deepEqual(
    findings.map((f) => `${f.object?.name} ${f.field}`),
    ['legacy spec.rules[0].filters[0]', 'legacy spec.rules[1].backendRefs[0].filters[0]'],
  );
  assert.match(findings[0]!.message, /^has 2 filters \(URLRewrite, RequestHeaderModifier\) that infergate does not apply: `infergate serve` sends requests matching it to the pool as the client sent them/);
  assert.match(findings[1]!.message, /^has a filter \(ResponseHeaderModifier on backendRef 0\)/);
});

test('a kind serve skips with a warning is a config-warning on that object, with the kind meant', async () => {
  const { findings } = await validate({ configPath: join(FIXTURES, 'unknown-kind.yaml') });
  assert.deepEqual(
    findings.map((f) => `${f.object?.kind} ${f.object?.name} ${f.location?.document} ${f.field}`),
    ['InferencePoool gemma-canary 3 kind', 'InferenceModel chat 4 kind'],
  );
  assert.match(findings[0]!.message, /did you mean "InferencePool"/);
  assert.match(findings[1]!.message, /replaced by InferenceObjective.*InferenceModelRewrite/);
});

test('kinds a manifest directory holds beside the pools (ServiceAccount, Role, Gateway, Istio) are counted as skipped, not findings; kinds that may be meant as one infergate reads stay warnings', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-validate-kinds-'));
  try {
    const doc = (apiVersion: string, kind: string, name: string): string => `apiVersion: ${apiVersion}\nkind: ${kind}\nmetadata: {name: ${name}, namespace: llm-d}\n`;
    await writeFile(join(dir, 'rbac.yaml'), [doc('v1', 'ServiceAccount', 'infergate'), doc('rbac.authorization.k8s.io/v1', 'Role', 'infergate'), doc('rbac.authorization.k8s.io/v1', 'RoleBinding', 'infergate'), doc('v1', 'ServiceAccount', 'other')].join('---\n'));
    await writeFile(join(dir, 'mesh.yaml'), [doc('gateway.networking.k8s.io/v1', 'Gateway', 'inference-gateway'), doc('networking.istio.io/v1', 'DestinationRule', 'dr')].join('---\n'));
    await writeFile(join(dir, 'meant.yaml'), [doc('gateway.networking.k8s.io/v1', 'GRPCRoute', 'grpc'), doc('inference.networking.x-k8s.io/v1alpha1', 'InferencePoolImport', 'imported'), doc('v1', 'configmap', 'lower')].join('---\n'));
    const report = await validate({ configPath: dir });
    assert.deepEqual(report.findings.map((f) => `${f.severity} ${f.code} ${f.object?.kind}`), ['warning config-warning GRPCRoute', 'warning config-warning InferencePoolImport', 'warning config-warning configmap']);
    assert.deepEqual(report.summary.skipped, { DestinationRule: 1, Gateway: 1, Role: 1, RoleBinding: 1, ServiceAccount: 2 });
    assert.match(renderText(report), /; skipped 1 DestinationRule, 1 Gateway, 1 Role, 1 RoleBinding, 2 ServiceAccounts \(kinds infergate does not read\): 0 errors, 3 warnings$/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a -f directory: a .json export and a subdirectory of manifests beside the YAML are named as not read, as serve -f does not read them', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-validate-unread-'));
  try {
    await cp(join(FIXTURES, 'clean.yaml'), join(dir, 'clean.yaml'));
    await writeFile(join(dir, 'export.json'), '{"apiVersion": "v1", "kind": "List", "items": []}');
    await writeFile(join(dir, 'README.md'), 'not a manifest');
    await cp(join(FIXTURES, 'clean.yaml'), join(dir, 'pools', 'more.yaml'), { recursive: true });
    await cp(join(FIXTURES, 'clean.yaml'), join(dir, 'docs', 'x.txt'), { recursive: true });
    const { findings } = await validate({ configPath: dir });
    assert.deepEqual(findings.map((f) => `${f.severity} ${f.code}`), ['warning file-not-read', 'warning file-not-read']);
    assert.match(findings[0]!.message, new RegExp(`^${join(dir, 'export.json')} is not read: -f reads only the \\*\\.yaml and \\*\\.yml files of a directory, as serve -f does`));
    assert.match(findings[1]!.message, new RegExp(`^${join(dir, 'pools')}/ holds a manifest file \\(\\.yaml, \\.yml or \\.json\\), not read: -f does not read subdirectories`));
    // The file alone is read, with no note.
    assert.deepEqual((await validate({ configPath: join(dir, 'export.json') })).findings, []);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('an unknown field names its path and the field meant; an error where the route then matches more than written', async () => {
  const { findings } = await validate({ configPath: join(FIXTURES, 'unknown-field.yaml') });
  assert.deepEqual(
    findings.map((f) => `${f.severity} ${f.object?.kind} ${f.field}`),
    ['error HTTPRoute spec.rules[0].matches[0].header', 'warning InferencePool spec.endpointPickRef', 'warning InferencePool spec.targetPortNumber'],
  );
  assert.match(findings[0]!.message, /did you mean "headers"\?\): the match is read without it, so it accepts more requests than written/);
  assert.match(findings[1]!.message, /did you mean "endpointPickerRef"/);
  assert.match(findings[2]!.message, /v1alpha2's; v1 has targetPorts/);
});

test('a `kubectl get -o yaml` List: findings name the item (every object is in document 1), and a Pod item\'s vLLM args are read', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-validate-list-'));
  try {
    const pod = `  - apiVersion: v1
    kind: Pod
    metadata: {name: gemma-0, namespace: llm-d, labels: {app: gemma}}
    spec: {containers: [{name: vllm, args: ["--model", "google/gemma-2b-it"]}]}
    status: {podIP: 127.0.222.30, conditions: [{type: Ready, status: "True"}]}
`;
    const pool = `  - apiVersion: inference.networking.k8s.io/v1
    kind: InferencePool
    metadata: {name: gemma, namespace: llm-d}
    spec: {selector: {matchLabels: {app: gemma}}, targetPorts: [{number: 8000}]}
`;
    await writeFile(join(dir, 'export.yaml'), `apiVersion: v1\nkind: List\nitems:\n${pod}${pool}${pool}`);
    const report = await validate({ configPath: dir });
    assert.deepEqual(
      report.findings.map((f) => [f.code, f.location]),
      [['duplicate-object', { file: join(dir, 'export.yaml'), document: 1, item: 2 }]],
    );
    assert.match(report.findings[0]!.message, /also declared in .*export\.yaml \(document 1, items\[1\]\)$/);
    assert.match(renderText(report), /InferencePool llm-d\/gemma \(.*export\.yaml, document 1, items\[2\]\) metadata\.name/);
    assert.equal(report.summary.servers.known, 1, 'the Pod item\'s args were found');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a pool annotation serve -f refuses is a config-error naming the field; a misspelt one a warning with the name meant', async () => {
  const { findings } = await validate({ configPath: join(FIXTURES, 'upstream-annotations.yaml') });
  assert.deepEqual(
    findings.map((f) => `${f.code} ${f.object?.kind} ${f.object?.name} ${f.field}`),
    [
      'config-error InferencePool gemma metadata.annotations.infergate.io/connect-timeout',
      'config-error InferencePool gemma metadata.annotations.infergate.io/outlier-max-ejection-percent',
      'config-warning InferencePool gemma metadata.annotations.infergate.io/stream-idle-timout',
    ],
  );
  assert.match(findings[2]!.message, /did you mean "infergate\.io\/stream-idle-timeout"/);
});

test('a pool that names a key, or a key given for every pool, clears api-key-missing', async () => {
  const upstreamKey = { kind: 'file', path: '/etc/infergate/key', origin: '--upstream-api-key-file' } as const;
  assert.deepEqual((await validate({ configPath: join(FIXTURES, 'api-key-missing.yaml'), upstreamKey })).findings, []);
  const { findings } = await validate({ configPath: join(FIXTURES, 'api-key-missing.yaml') });
  assert.match(findings[0]!.message, /requires? an API key \(Pod llm-d\/gemma-0 \(--api-key\)\)/);
  assert.match(findings[0]!.fix, /infergate\.io\/upstream-api-key-secret/);
});

test('the examples: seed-demo is clean; unified-pool mixes base models, which only a model-blind picker misroutes', async () => {
  assert.deepEqual((await validate({ configPath: join(EXAMPLES, 'seed-demo') })).findings, []);
  const unified = await validate({ configPath: join(EXAMPLES, 'unified-pool') });
  assert.deepEqual(unified.findings.map((f) => `${f.severity} ${f.code} ${f.object?.name}`), ['warning pool-mixed-base-models gaie-pattern2']);
  assert.match(unified.findings[0]!.message, /"google\/gemma-2b-it" 50%, "microsoft\/Phi-3-mini-4k-instruct" 50%/);
});

test('with --strict-allowlist a base model missing from every allowlist is an error, as serve would 404 it', async () => {
  const { findings } = await validate({ configPath: join(FIXTURES, 'field-report-missing-allowlist.yaml'), strictAllowlist: true });
  assert.deepEqual(findings.map((f) => `${f.severity} ${f.code}`), ['error base-model-not-allowlisted', 'error base-model-not-allowlisted']);
});

test('with --gateway-name, routes attached to another Gateway are not served, so they shadow nothing', async () => {
  const { findings } = await validate({ configPath: join(FIXTURES, 'route-shadowed.yaml'), gatewayName: 'other' });
  assert.deepEqual(findings.map((f) => f.code), []);
});

test('routes on different Gateways shadow each other under serve, which matches every route it serves in one table; the finding says so and names --gateway-name', async () => {
  const file = join(FIXTURES, 'route-shadowed-other-gateway.yaml');
  const all = (await validate({ configPath: file })).findings;
  assert.deepEqual(all.map((f) => `${f.object?.namespace}/${f.object?.name} ${f.field}`), ['team-b/r spec.rules[0].matches[0]']);
  assert.match(all[0]!.message, /^route team-b\/r rule 0 \(path PathPrefix \/v1\) can never match under infergate serve: route team-a\/r rule 0 .* They attach to different parents \(Gateway team-a\/gw; Gateway team-b\/gw\), but infergate serve without --gateway-name serves every HTTPRoute in one table/);
  assert.match(all[0]!.fix, /run each with serve --gateway-name NAME, and validate with --gateway-name NAME/);
  // --gateway-name gw: both name a Gateway gw (serve compares the name), so both are served, and still collide.
  const named = (await validate({ configPath: file, gatewayName: 'gw' })).findings;
  assert.match(named[0]!.message, /but infergate serve --gateway-name gw serves both in one table/);
});

test('an objective or rewrite in the older group beside llm-d.ai ones on its pool: located on the ignored object, a stale copy told to go, a lone one told to move', async () => {
  const { findings } = await validate({ configPath: join(FIXTURES, 'legacy-group-ignored.yaml') });
  assert.deepEqual(findings.map((f) => `${f.object?.kind} ${f.object?.name} ${f.location?.document} ${f.field}`), ['InferenceObjective interactive 5 apiVersion', 'InferenceModelRewrite chat-alias 7 apiVersion']);
  assert.match(findings[0]!.message, /^is in inference\.networking\.x-k8s\.io, but InferencePool llm-d\/gemma also has InferenceObjectives in llm-d\.ai \(llm-d\/interactive\), so the gateway ignores this one/);
  assert.match(findings[0]!.fix, /^Delete this inference\.networking\.x-k8s\.io copy: InferenceObjective llm-d\/interactive in llm-d\.ai replaces it/);
  assert.match(findings[1]!.message, /its rewrites apply to no request$/);
  assert.match(findings[1]!.fix, /^Move it to apiVersion llm-d\.ai\/v1alpha2/);
});

test('a file that does not parse: its syntax errors by file and line, and what is missing because of it says so', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'infergate-validate-'));
  try {
    await cp(join(EXAMPLES, 'seed-demo'), dir, { recursive: true });
    // Breaks the first pool's document on lines 9 to 11, so the route to it finds no pool.
    const lines = (await readFile(join(dir, 'pools.yaml'), 'utf8')).split('\n');
    lines[8] = '  namespace: llm-d: x: y';
    lines[9] = 'spec: [oops';
    lines[10] = ' - - selector: {';
    await writeFile(join(dir, 'pools.yaml'), lines.join('\n'));
    await writeFile(join(dir, 'zz-more.yaml'), 'kind: Pod\nmetadata: {name: a\n');
    const { findings } = await validate({ configPath: dir });
    const syntax = findings.filter((f) => f.message.startsWith('YAML syntax error'));
    const at = syntax.map((f) => `${f.location?.file.slice(dir.length + 1)} ${/line (\d+), column (\d+)/.exec(f.message)?.slice(1).join(':')}`);
    assert.ok(syntax.length >= 3, at.join('\n'));
    const sorted = [...at].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
    assert.deepEqual(at, sorted, 'by file, then line and column');
    assert.ok(at.some((a) => a.startsWith('pools.yaml 9:')) && at.some((a) => a.startsWith('pools.yaml 10:')), at.join('\n'));
    const others = findings.filter((f) => f.code !== 'invalid-object');
    assert.ok(others.some((f) => f.code === 'backend-pool-missing'), others.map((f) => f.code).join(', '));
    for (const f of others) {
      assert.match(f.message, /may be a consequence of the YAML syntax errors in .*pools\.yaml, .*zz-more\.yaml/, f.code);
      assert.match(f.fix, /^Fix the YAML syntax errors in .*pools\.yaml, .*zz-more\.yaml first/, f.code);
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
