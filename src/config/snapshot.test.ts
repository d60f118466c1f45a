/** buildSnapshot: cross-object validation (duplicates, allowlist conflicts), warnings, and pool membership. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, formatIssue, type ConfigIssue } from '../api/config-issue.js';
import type { HTTPRoute } from '../api/http-route.js';
import type { Resource } from '../api/resource.js';
import { allowlist, inferencePool, pod } from '../api/test-fixtures.js';
import { pool as poolRef, route } from '../route/test-fixtures.js';
import { buildSnapshot } from './snapshot.js';
import { snapshot, snapshotOfFiles, snapshotWith } from './test-fixtures.js';

/** The route builder declared in another file. */
function routeFrom(r: HTTPRoute, file: string, document = 1): HTTPRoute {
  return { ...r, source: { ...r.source, file, document } };
}

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof ConfigError, `expected ConfigError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a ConfigError');
}

describe('buildSnapshot: errors', () => {
  const cases: { name: string; resources: Resource[]; issues: { file: string; document?: number; field: string | null; message: RegExp }[] }[] = [
    {
      name: 'duplicate InferencePool names both files',
      resources: [inferencePool('gemma').selects({ app: 'gemma' }).from('a.yaml'), inferencePool('gemma').selects({ app: 'other' }).from('b.yaml', 3)],
      issues: [{ file: 'b.yaml', document: 3, field: 'metadata.name', message: /^duplicate InferencePool default\/gemma; also declared in a\.yaml \(document 1\)$/ }],
    },
    {
      name: 'duplicate Pod',
      resources: [pod('gemma-0').from('pods-1.yaml').ready(), pod('gemma-0').from('pods-2.yaml', 2).notReady()],
      issues: [{ file: 'pods-2.yaml', document: 2, field: 'metadata.name', message: /duplicate Pod default\/gemma-0; also declared in pods-1\.yaml \(document 1\)/ }],
    },
    {
      name: 'duplicate HTTPRoute',
      resources: [routeFrom(route('r'), 'routes.yaml'), routeFrom(route('r'), 'more-routes.yaml', 4)],
      issues: [{ file: 'more-routes.yaml', document: 4, field: 'metadata.name', message: /duplicate HTTPRoute default\/r; also declared in routes\.yaml \(document 1\)/ }],
    },
    {
      name: 'duplicate allowlist is reported as a ConfigMap',
      resources: [allowlist('gemma').base('g').from('x.yaml'), allowlist('gemma').base('g').from('y.yaml')],
      issues: [{ file: 'y.yaml', field: 'metadata.name', message: /duplicate ConfigMap default\/gemma; also declared in x\.yaml/ }],
    },
    {
      name: 'adapter claimed by two bases names both ConfigMaps',
      resources: [allowlist('gemma-allowlist').base('google/gemma-2b-it').adapter('sql-lora').from('gemma.yaml'), allowlist('llama-allowlist').base('meta/llama-3').adapter('chat-lora', 'sql-lora').from('llama.yaml')],
      issues: [{ file: 'llama.yaml', field: 'data.adapters[1]', message: /adapter "sql-lora" maps to base "meta\/llama-3" here but to "google\/gemma-2b-it" in ConfigMap default\/gemma-allowlist/ }],
    },
    {
      name: 'a name that is both a base and an adapter',
      resources: [allowlist('a').base('gemma').from('a.yaml'), allowlist('b').base('llama').adapter('gemma').from('b.yaml')],
      issues: [{ file: 'b.yaml', field: 'data.adapters[0]', message: /"gemma" is an adapter here but a base model in ConfigMap default\/a/ }],
    },
    {
      name: 'prior issues from the files are kept',
      resources: [inferencePool('gemma').selects({ app: 'gemma' })],
      issues: [{ file: 'broken.yaml', document: 2, field: null, message: /^YAML syntax error/ }],
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const prior: ConfigIssue[] = c.name.startsWith('prior') ? [{ location: { file: 'broken.yaml', document: 2 }, field: null, message: 'YAML syntax error at line 3, column 1: x' }] : [];
      const err = configError(() => buildSnapshot(c.resources, {}, prior));
      assert.equal(err.issues.length, c.issues.length, err.message);
      c.issues.forEach((want, i) => {
        const got = err.issues[i]!;
        assert.equal(got.location.file, want.file);
        if (want.document !== undefined) assert.equal(got.location.document, want.document);
        assert.equal(got.field, want.field);
        assert.match(got.message, want.message);
        assert.ok(err.message.includes(formatIssue(got)));
      });
    });
  }

  test('every problem is reported at once', () => {
    const err = configError(() =>
      snapshot(
        inferencePool('p').selects({ a: 'b' }).from('1.yaml'),
        inferencePool('p').selects({ a: 'b' }).from('2.yaml'),
        allowlist('x').base('m').adapter('lora'),
        allowlist('y').base('n').adapter('lora'),
      ),
    );
    assert.equal(err.issues.length, 2);
    assert.match(err.message, /2 problems/);
  });

  test('same names in other kinds or namespaces are not duplicates', () => {
    const s = snapshot(
      inferencePool('gemma').selects({ app: 'gemma' }),
      inferencePool('gemma').inNamespace('team-b').selects({ app: 'gemma' }),
      pod('gemma').labels({ app: 'gemma' }).ip('10.0.0.1').ready(),
      allowlist('gemma').base('g'),
    );
    assert.deepEqual([...s.pools.keys()], ['default/gemma', 'team-b/gemma']);
  });
});

describe('buildSnapshot: allowlists', () => {
  test('the same base in two ConfigMaps unions their adapters', () => {
    const s = snapshot(
      allowlist('gemma-sql').base('google/gemma-2b-it').adapter('sql-lora', 'shared-lora'),
      allowlist('gemma-chat').inNamespace('chat').base('google/gemma-2b-it').adapter('chat-lora', 'shared-lora'),
    );
    assert.deepEqual(s.allowlistTable.bases.get('google/gemma-2b-it'), ['ConfigMap default/gemma-sql', 'ConfigMap chat/gemma-chat']);
    assert.deepEqual(
      [...s.allowlistTable.adapters].map(([name, a]) => [name, a.base, a.origin]),
      [
        ['sql-lora', 'google/gemma-2b-it', 'ConfigMap default/gemma-sql'],
        ['shared-lora', 'google/gemma-2b-it', 'ConfigMap default/gemma-sql'],
        ['chat-lora', 'google/gemma-2b-it', 'ConfigMap chat/gemma-chat'],
      ],
    );
    assert.equal(s.allowlists.length, 2);
  });
});

describe('buildSnapshot: warnings', () => {
  test('a route naming a missing pool is a warning, not an error', () => {
    const s = snapshot(route('gemma-route').rule(poolRef('gemma')), route('other').rule(poolRef('present')), inferencePool('present').selects({ app: 'x' }), pod('x').labels({ app: 'x' }).ip('10.0.0.1').ready());
    assert.deepEqual(s.warnings, ['HTTPRoute default/gemma-route rule 0 names InferencePool default/gemma, which is not in the configuration; requests matching it will get 500 until it exists']);
    assert.equal(s.routes.length, 2);
  });

  test('a backendRef to a Service is a warning', () => {
    const s = snapshot(route('svc').rule({ group: '', kind: 'Service', name: 'vllm', namespace: 'default', weight: 1 }));
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0]!, /HTTPRoute default\/svc rule 0 has a backendRef of kind Service \(vllm\); infergate routes only to InferencePools/);
  });

  test('filters infergate does not apply are a warning naming each, on the rule and on its backendRefs', () => {
    const yaml = [
      'apiVersion: gateway.networking.k8s.io/v1',
      'kind: HTTPRoute',
      'metadata: {name: legacy, namespace: llm}',
      'spec:',
      '  rules:',
      '    - backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: gemma}]',
      '    - matches: [{path: {type: PathPrefix, value: /legacy}}]',
      '      filters:',
      '        - {type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /v1}}}',
      '        - {type: RequestHeaderModifier, requestHeaderModifier: {set: [{name: x-gateway-inference-objective, value: batch}]}}',
      '      backendRefs:',
      '        - {group: inference.networking.k8s.io, kind: InferencePool, name: gemma, filters: [{type: ResponseHeaderModifier}]}',
      '---',
      'apiVersion: inference.networking.k8s.io/v1',
      'kind: InferencePool',
      'metadata: {name: gemma, namespace: llm}',
      'spec: {selector: {matchLabels: {app: gemma}}, targetPorts: [{number: 8000}]}',
      '',
    ].join('\n');
    const s = snapshotOfFiles({ 'routes.yaml': yaml });
    const filterWarnings = s.warnings.filter((w) => w.startsWith('HTTPRoute llm/legacy'));
    assert.equal(filterWarnings.length, 1, s.warnings.join('\n'));
    assert.match(
      filterWarnings[0]!,
      /^HTTPRoute llm\/legacy rule 1 has 3 filters \(URLRewrite, RequestHeaderModifier, ResponseHeaderModifier on backendRef 0\) that infergate does not apply: `infergate serve` sends requests matching it to the pool as the client sent them/,
    );
  });

  test('a pool that selects no pods is a warning', () => {
    const s = snapshot(inferencePool('empty').selects({ app: 'nothing' }), pod('a').labels({ app: 'gemma' }).ip('10.0.0.1').ready());
    assert.deepEqual(s.warnings, ['InferencePool default/empty selects no pods (selector {"app":"nothing"})']);
  });
});

describe('buildSnapshot: pool members', () => {
  const gemma = inferencePool('gemma').selects({ app: 'gemma', role: 'decode' });
  const pods = [
    pod('ready').labels({ app: 'gemma', role: 'decode', extra: 'ok' }).ip('10.0.0.1').ready(),
    pod('not-ready').labels({ app: 'gemma', role: 'decode' }).ip('10.0.0.2').notReady(),
    pod('no-ip').labels({ app: 'gemma', role: 'decode' }).ready(),
    pod('prefill').labels({ app: 'gemma', role: 'prefill' }).ip('10.0.0.3').ready(),
    pod('only-app').labels({ app: 'gemma' }).ip('10.0.0.4').ready(),
    pod('other-namespace').inNamespace('team-b').labels({ app: 'gemma', role: 'decode' }).ip('10.0.0.5').ready(),
  ];
  const s = snapshot(gemma, inferencePool('gemma-b').inNamespace('team-b').selects({ app: 'gemma' }), ...pods);

  test('selectors and namespaces decide membership; unusable pods are members with a reason', () => {
    assert.deepEqual(
      s.members.get('default/gemma')?.map((m) => [m.pod.meta.name, m.excluded]),
      [
        ['ready', undefined],
        ['not-ready', 'pod is not Ready'],
        ['no-ip', 'pod has no status.podIP'],
      ],
    );
    assert.deepEqual(
      s.members.get('team-b/gemma-b')?.map((m) => [m.pod.meta.name, m.excluded]),
      [['other-namespace', undefined]],
    );
  });

  test('the snapshot keeps every object', () => {
    assert.equal(s.pods.length, pods.length);
    assert.equal(s.pools.get('default/gemma'), gemma);
    assert.deepEqual(s.warnings, []);
  });
});

describe('buildSnapshot: versions and gateway name', () => {
  test('each snapshot has a higher version', () => {
    const a = snapshot();
    const b = snapshot();
    assert.ok(b.version > a.version);
  });

  test('gatewayName leaves routes of other gateways out of the route table', () => {
    const s = snapshotWith({ gatewayName: 'inference-gateway' }, route('mine').parent('inference-gateway').rule(), route('theirs').parent('other-gateway').rule());
    assert.deepEqual(s.routeTable.ignored.map((i) => i.route.meta.name), ['theirs']);
    assert.equal(s.routes.length, 2);
  });
});

describe('buildSnapshot: llm-d.ai and the legacy group', () => {
  const objective = (group: string, name: string, priority: number, pool = 'p'): Resource => ({
    kind: 'InferenceObjective',
    group,
    priority,
    poolKey: `default/${pool}`,
    meta: { name, namespace: 'default', labels: {}, annotations: {} },
    source: { file: `${group}.yaml`, document: 1 },
  });
  test('the same name in both groups is no duplicate; for a pool with llm-d.ai objectives the legacy ones are left out, with a warning', () => {
    const s = snapshot(inferencePool('p'), inferencePool('q'), objective('inference.networking.x-k8s.io', 'batch', 5), objective('llm-d.ai', 'batch', -1), objective('inference.networking.x-k8s.io', 'old', 3), objective('inference.networking.x-k8s.io', 'other', 2, 'q'));
    assert.deepEqual([...s.objectives.get('default/p')!.entries()].map(([n, o]) => [n, o.priority, o.group]), [['batch', -1, 'llm-d.ai']]);
    // A pool with only legacy objectives keeps them.
    assert.equal(s.objectives.get('default/q')!.get('other')?.priority, 2);
    assert.ok(s.warnings.some((w) => /InferencePool default\/p has InferenceObjectives in llm-d\.ai, so those in inference\.networking\.x-k8s\.io are ignored for it \(as llm-d does\): default\/batch, default\/old/.test(w)), s.warnings.join('\n'));
  });
});

test("a pool's InferenceModelRewrites go oldest first (creationTimestamp), as llm-d ranks them; without ages, in configuration order", async () => {
  const { rewriteModel } = await import('../epp/model-rewrite.js');
  const rewrite = (name: string, target: string, created?: string): string => `apiVersion: llm-d.ai/v1alpha2
kind: InferenceModelRewrite
metadata: {name: ${name}${created ? `, creationTimestamp: "${created}"` : ''}}
spec:
  poolRef: {group: inference.networking.k8s.io, name: gemma}
  rules:
  - matches: [{model: {type: Exact, value: sql}}]
    targets: [{modelRewrite: ${target}, weight: 1}]
`;
  const pool = 'apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {name: gemma}\nspec:\n  selector: {matchLabels: {app: gemma}}\n  targetPorts: [{number: 8000}]\n  endpointPickerRef: {name: epp, port: {number: 9002}}\n';
  const aged = snapshotOfFiles({ 'a.yaml': [pool, rewrite('newer', 'sql-v2', '2026-03-01T00:00:00Z'), rewrite('older', 'sql-v1', '2026-01-01T00:00:00Z'), rewrite('unaged', 'sql-v3')].join('---\n') });
  assert.deepEqual(aged.rewrites.get('default/gemma')!.map((r) => r.meta.name), ['older', 'newer', 'unaged']);
  assert.equal(rewriteModel(aged.rewrites.get('default/gemma'), 'sql')?.model, 'sql-v1');
  const unaged = snapshotOfFiles({ 'a.yaml': [pool, rewrite('b', 'sql-v2'), rewrite('a', 'sql-v1')].join('---\n') });
  assert.equal(rewriteModel(unaged.rewrites.get('default/gemma'), 'sql')?.model, 'sql-v2', 'configuration order');
});
