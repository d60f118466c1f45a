/** readResource over every kind: valid YAML parses to the expected values, every invalid field is located exactly. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { ConfigError, formatIssue, formatLocation } from './config-issue.js';
import { readResource, type ReadResult, type Resource } from './resource.js';

const AT = { file: 'fleet/pools.yaml', document: 2 };

function read(yaml: string): ReadResult {
  return readResource(parse(yaml) as unknown, AT);
}

function resourceOf(yaml: string): Resource {
  const r = read(yaml);
  assert.deepEqual(r.issues, [], 'no issues expected');
  assert.ok('resource' in r, `expected a resource, got skipped: ${'skipped' in r ? r.skipped : ''}`);
  return r.resource;
}

const POOL = `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: gemma, namespace: team-a}
spec:
  selector: {matchLabels: {app: gemma}}
  targetPorts: [{number: 8000}]
`;

/** The valid pool with its `spec` replaced. */
function poolWithSpec(spec: string): string {
  return `
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: gemma, namespace: team-a}
spec:
${spec.replace(/^\n/, '').replace(/^/gm, '  ')}`;
}

function routeWithSpec(spec: string): string {
  return `
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: gemma-route, namespace: team-a}
spec:
${spec.replace(/^\n/, '').replace(/^/gm, '  ')}`;
}

function podWithStatus(status: string): string {
  return `
apiVersion: v1
kind: Pod
metadata: {name: gemma-0, namespace: team-a, labels: {app: gemma}}
status:
${status.replace(/^\n/, '').replace(/^/gm, '  ')}`;
}

describe('readResource: valid objects', () => {
  const cases: { name: string; yaml: string; want: Record<string, unknown> }[] = [
    {
      name: 'pool defaults: appProtocol http, no picker ref',
      yaml: POOL,
      want: {
        kind: 'InferencePool',
        meta: { name: 'gemma', namespace: 'team-a', labels: {}, annotations: {} },
        selector: { app: 'gemma' },
        targetPorts: [8000],
        appProtocol: 'http',
        endpointPickerRef: undefined,
      },
    },
    {
      name: 'namespace defaults to default',
      yaml: POOL.replace('namespace: team-a', 'labels: {tier: gpu}'),
      want: { meta: { name: 'gemma', namespace: 'default', labels: { tier: 'gpu' }, annotations: {} } },
    },
    {
      name: 'pool with h2c, several ports and an endpointPickerRef (failureMode defaults to FailClose)',
      yaml: poolWithSpec(`
selector: {matchLabels: {app: gemma, role: decode}}
targetPorts: [{number: 8000}, {number: 8001}]
appProtocol: kubernetes.io/h2c
endpointPickerRef: {group: "", name: gemma-epp, port: {number: 9002}}`),
      want: {
        selector: { app: 'gemma', role: 'decode' },
        targetPorts: [8000, 8001],
        appProtocol: 'kubernetes.io/h2c',
        endpointPickerRef: { group: '', kind: 'Service', name: 'gemma-epp', port: 9002, failureMode: 'FailClose' },
      },
    },
    {
      name: 'endpointPickerRef with FailOpen',
      yaml: poolWithSpec(`
selector: {matchLabels: {app: gemma}}
targetPorts: [{number: 8000}]
endpointPickerRef: {kind: Service, name: gemma-epp, port: {number: 9002}, failureMode: FailOpen}`),
      want: { endpointPickerRef: { kind: 'Service', name: 'gemma-epp', port: 9002, failureMode: 'FailOpen' } },
    },
    {
      name: 'endpointPickerRef to a kind other than Service needs no port (GIE\'s CEL rule binds Services only)',
      yaml: poolWithSpec(`
selector: {matchLabels: {app: gemma}}
targetPorts: [{number: 8000}]
endpointPickerRef: {group: picker.example.com, kind: EndpointPicker, name: gemma-epp}`),
      want: { endpointPickerRef: { group: 'picker.example.com', kind: 'EndpointPicker', name: 'gemma-epp', failureMode: 'FailClose' } },
    },
    {
      name: 'route: weight defaults to 1, refs default to the route namespace, hostnames lower-cased',
      yaml: routeWithSpec(`
parentRefs: [{name: inference-gateway}]
hostnames: [LLM.Example.COM]
rules:
  - matches:
      - path: {type: PathPrefix, value: /v1}
        headers: [{name: X-Gateway-Base-Model-Name, value: google/gemma-2b-it}]
        method: POST
    backendRefs:
      - {group: inference.networking.k8s.io, kind: InferencePool, name: gemma}
      - {group: inference.networking.k8s.io, kind: InferencePool, name: gemma-canary, namespace: canary, weight: 30}`),
      want: {
        kind: 'HTTPRoute',
        parentRefs: [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'inference-gateway', namespace: 'team-a' }],
        hostnames: ['llm.example.com'],
        rules: [
          {
            matches: [
              {
                path: { type: 'PathPrefix', value: '/v1' },
                headers: [{ type: 'Exact', name: 'X-Gateway-Base-Model-Name', value: 'google/gemma-2b-it' }],
                queryParams: [],
                method: 'POST',
              },
            ],
            backendRefs: [
              { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'gemma', namespace: 'team-a', weight: 1 },
              { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'gemma-canary', namespace: 'canary', weight: 30 },
            ],
          },
        ],
      },
    },
    {
      name: 'a rule without matches gets PathPrefix "/"',
      yaml: routeWithSpec(`
rules:
  - name: all
    backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: gemma, weight: 0}]`),
      want: {
        rules: [
          {
            name: 'all',
            matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }],
            backendRefs: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'gemma', namespace: 'team-a', weight: 0 }],
          },
        ],
      },
    },
    {
      name: 'a route without rules has one catch-all rule',
      yaml: routeWithSpec('parentRefs: [{name: gw}]'),
      want: { rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }], backendRefs: [] }] },
    },
    {
      name: 'the legacy x-k8s.io group is accepted on an InferencePool backendRef',
      yaml: routeWithSpec('rules: [{backendRefs: [{group: inference.networking.x-k8s.io, kind: InferencePool, name: old}]}]'),
      want: { rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }], backendRefs: [{ group: 'inference.networking.x-k8s.io', kind: 'InferencePool', name: 'old', namespace: 'team-a', weight: 1 }] }] },
    },
    {
      name: 'route regex and query matches',
      yaml: routeWithSpec(`
rules:
  - matches:
      - path: {type: RegularExpression, value: "/v[0-9]+/.*"}
        queryParams: [{type: RegularExpression, name: tier, value: "gold|silver"}]`),
      want: {
        rules: [
          {
            matches: [{ path: { type: 'RegularExpression', value: '/v[0-9]+/.*' }, headers: [], queryParams: [{ type: 'RegularExpression', name: 'tier', value: 'gold|silver' }] }],
            backendRefs: [],
          },
        ],
      },
    },
    {
      name: "RE2's leading (?i) flag group, as routes written for Envoy-based Gateways use it, is accepted",
      yaml: routeWithSpec(`
rules:
  - matches:
      - path: {type: RegularExpression, value: "(?i)/v1/.*"}
        headers: [{type: RegularExpression, name: X-Gateway-Base-Model-Name, value: "(?i)meta-llama/.*"}]`),
      want: {
        rules: [
          {
            matches: [{ path: { type: 'RegularExpression', value: '(?i)/v1/.*' }, headers: [{ type: 'RegularExpression', name: 'X-Gateway-Base-Model-Name', value: '(?i)meta-llama/.*' }], queryParams: [] }],
            backendRefs: [],
          },
        ],
      },
    },
    {
      name: 'pod: labels, IP and readiness',
      yaml: podWithStatus(`
podIP: 10.0.0.7
conditions: [{type: PodScheduled, status: "True"}, {type: Ready, status: "True"}]`),
      want: { kind: 'Pod', meta: { name: 'gemma-0', namespace: 'team-a', labels: { app: 'gemma' }, annotations: {} }, podIP: '10.0.0.7', ready: true },
    },
    {
      name: 'pod without status: not ready, no IP',
      yaml: 'apiVersion: v1\nkind: Pod\nmetadata: {name: pending}',
      want: { ready: false, podIP: undefined },
    },
    {
      name: 'labelled ConfigMap is an allowlist',
      yaml: `
apiVersion: v1
kind: ConfigMap
metadata:
  name: gemma-allowlist
  labels: {inference.networking.k8s.io/bbr-managed: "true"}
data:
  baseModel: google/gemma-2b-it
  adapters: |
    - gemma-sql-lora
    - gemma-chat-lora`,
      want: { kind: 'Allowlist', baseModel: 'google/gemma-2b-it', adapters: ['gemma-sql-lora', 'gemma-chat-lora'] },
    },
    {
      name: 'pool: the label values GIE allows at their limits (empty, 63 characters, dots, dashes and underscores; 64 labels)',
      yaml: poolWithSpec(`selector: {matchLabels: {empty: "", long: ${'a'.repeat(63)}, mixed: v1.2_rc-3, ${Array.from({ length: 61 }, (_, i) => `l${i}: v`).join(', ')}}}\ntargetPorts: [{number: 8000}]`),
      want: { kind: 'InferencePool' },
    },
    {
      name: 'objective: any int32 priority the CRD allows (past a million: a scheme of priorities by the thousand)',
      yaml: 'apiVersion: llm-d.ai/v1alpha2\nkind: InferenceObjective\nmetadata: {name: batch, namespace: team-a}\nspec: {priority: -5000000, poolRef: {name: p}}\n',
      want: { kind: 'InferenceObjective', priority: -5_000_000 },
    },
    {
      name: 'rewrite: a target without a weight beside weighted ones gets no requests, as llm-d reads it',
      yaml: 'apiVersion: llm-d.ai/v1alpha2\nkind: InferenceModelRewrite\nmetadata: {name: sql-canary, namespace: team-a}\nspec:\n  poolRef: {name: p}\n  rules: [{matches: [{model: {value: sql}}], targets: [{modelRewrite: sql-v1, weight: 90}, {modelRewrite: sql-v2}]}, {targets: [{modelRewrite: a}, {modelRewrite: b}]}]\n',
      want: { rules: [{ models: ['sql'], targets: [{ modelRewrite: 'sql-v1', weight: 90 }, { modelRewrite: 'sql-v2', weight: 0 }] }, { models: [], targets: [{ modelRewrite: 'a', weight: 1 }, { modelRewrite: 'b', weight: 1 }] }] },
    },
    {
      name: 'rewrite: a rule without targets (optional in the CRD) keeps the model name',
      yaml: 'apiVersion: llm-d.ai/v1alpha2\nkind: InferenceModelRewrite\nmetadata: {name: all-to-v2, namespace: team-a}\nspec:\n  poolRef: {name: p}\n  rules: [{matches: [{model: {value: sql-v1}}]}, {targets: [{modelRewrite: sql-v2}]}]\n',
      want: { rules: [{ models: ['sql-v1'], targets: [] }, { models: [], targets: [{ modelRewrite: 'sql-v2', weight: 1 }] }] },
    },
    {
      name: 'creationTimestamp is kept for route precedence',
      yaml: POOL.replace('namespace: team-a', 'namespace: team-a, creationTimestamp: "2024-05-01T10:00:00Z"'),
      want: { meta: { name: 'gemma', namespace: 'team-a', labels: {}, annotations: {}, creationTimestamp: '2024-05-01T10:00:00Z' } },
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const res = resourceOf(c.yaml) as unknown as Record<string, unknown>;
      for (const [key, want] of Object.entries(c.want)) assert.deepEqual(res[key], want, key);
    });
  }

  test('the resource remembers where it was declared', () => {
    const res = resourceOf(POOL);
    assert.deepEqual(res.source, { file: 'fleet/pools.yaml', document: 2, kind: 'InferencePool', namespace: 'team-a', name: 'gemma' });
  });
});

describe('readResource: pod readiness from status.conditions', () => {
  const cases: { name: string; conditions: string; ready: boolean }[] = [
    { name: 'Ready "True"', conditions: '[{type: Ready, status: "True"}]', ready: true },
    { name: 'Ready "False"', conditions: '[{type: Ready, status: "False"}]', ready: false },
    { name: 'Ready "Unknown"', conditions: '[{type: Ready, status: "Unknown"}]', ready: false },
    { name: 'unquoted True (a YAML boolean)', conditions: '[{type: Ready, status: true}]', ready: true },
    { name: 'only other conditions', conditions: '[{type: ContainersReady, status: "True"}, {type: PodScheduled, status: "True"}]', ready: false },
    { name: 'no conditions', conditions: '[]', ready: false },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const res = resourceOf(podWithStatus(`podIP: 10.0.0.1\nconditions: ${c.conditions}`));
      assert.equal(res.kind, 'Pod');
      assert.equal(res.kind === 'Pod' && res.ready, c.ready);
    });
  }
});

describe('readResource: every invalid field is located', () => {
  const cases: { name: string; yaml: string; field: string; message?: RegExp; kind?: string; namespace?: string; resource?: string }[] = [
    // InferencePool
    { name: 'port 0', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 0}]'), field: 'spec.targetPorts[0].number', message: /integer from 1 to 65535/ },
    { name: 'port above 65535', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}, {number: 70000}]'), field: 'spec.targetPorts[1].number' },
    { name: 'port as a string', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: "8000"}]'), field: 'spec.targetPorts[0].number', message: /got "8000"/ },
    { name: 'port without number', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{port: 8000}]'), field: 'spec.targetPorts[0].number', message: /is required/ },
    { name: 'port not a mapping', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [8000]'), field: 'spec.targetPorts[0]', message: /must be a mapping/ },
    { name: 'port listed twice', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}, {number: 8000}]'), field: 'spec.targetPorts[1].number', message: /listed twice/ },
    { name: 'more than 8 ports', yaml: poolWithSpec(`selector: {matchLabels: {app: gemma}}\ntargetPorts: [${[1, 2, 3, 4, 5, 6, 7, 8, 9].map((i) => `{number: ${8000 + i}}`).join(', ')}]`), field: 'spec.targetPorts', message: /at most 8/ },
    { name: 'no ports', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: []'), field: 'spec.targetPorts', message: /at least one/ },
    { name: 'targetPorts missing', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}'), field: 'spec.targetPorts', message: /is required/ },
    { name: 'selector missing', yaml: poolWithSpec('targetPorts: [{number: 8000}]'), field: 'spec.selector', message: /is required/ },
    { name: 'empty matchLabels', yaml: poolWithSpec('selector: {matchLabels: {}}\ntargetPorts: [{number: 8000}]'), field: 'spec.selector.matchLabels', message: /at least one label/ },
    { name: 'matchExpressions', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}, matchExpressions: [{key: app, operator: Exists}]}\ntargetPorts: [{number: 8000}]'), field: 'spec.selector.matchExpressions' },
    { name: 'unquoted boolean label value', yaml: poolWithSpec('selector: {matchLabels: {app: gemma, llm-d.ai/inferenceServing: true}}\ntargetPorts: [{number: 8000}]'), field: 'spec.selector.matchLabels.llm-d.ai/inferenceServing', message: /quote it/ },
    { name: 'unknown appProtocol', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nappProtocol: grpc'), field: 'spec.appProtocol', message: /http, kubernetes.io\/h2c/ },
    { name: 'unknown failureMode', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {name: epp, port: {number: 9002}, failureMode: FailSometimes}'), field: 'spec.endpointPickerRef.failureMode', message: /FailOpen, FailClose/ },
    { name: 'endpointPickerRef without name', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {kind: Service}'), field: 'spec.endpointPickerRef.name' },
    { name: 'endpointPickerRef port 0', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {name: epp, port: {number: 0}}'), field: 'spec.endpointPickerRef.port.number' },
    // GIE's CRD: a ref to a Service (kind left out or Service) must name its port; kind and group have formats.
    { name: 'endpointPickerRef to a Service without port', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {name: epp}'), field: 'spec.endpointPickerRef.port', message: /^is required when kind is Service \(the default\), as GIE's CRD requires it: the picker Service's port, not its targetPort, such as port: \{number: 9002\}$/ },
    { name: 'endpointPickerRef with kind Service and no port', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {kind: Service, name: epp, failureMode: FailOpen}'), field: 'spec.endpointPickerRef.port', message: /is required when kind is Service/ },
    { name: "v1alpha2's extensionRef renamed, its portNumber kept: the port meant", yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {name: epp, portNumber: 9002}'), field: 'spec.endpointPickerRef.port', message: /is required when kind is Service .*\(v1alpha2's portNumber: 9002 is port: \{number: 9002\} in v1\)$/ },
    { name: 'endpointPickerRef port without number', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {name: epp, port: {}}'), field: 'spec.endpointPickerRef.port.number', message: /is required/ },
    { name: 'endpointPickerRef kind not a kind', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {kind: v1/Service, name: epp, port: {number: 9002}}'), field: 'spec.endpointPickerRef.kind', message: /"v1\/Service" is not a kind/ },
    { name: 'endpointPickerRef kind empty', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {kind: "", name: epp, port: {number: 9002}}'), field: 'spec.endpointPickerRef.kind', message: /must not be empty \(leave it out for Service\)/ },
    { name: 'endpointPickerRef group not a group (core/v1)', yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {group: core/v1, name: epp, port: {number: 9002}}'), field: 'spec.endpointPickerRef.group', message: /"core\/v1" is not an API group: "" \(the core group, a Service's\)/ },
    { name: 'endpointPickerRef name past 253 characters', yaml: poolWithSpec(`selector: {matchLabels: {app: gemma}}\ntargetPorts: [{number: 8000}]\nendpointPickerRef: {name: ${'e'.repeat(254)}, port: {number: 9002}}`), field: 'spec.endpointPickerRef.name', message: /is 254 characters long; at most 253/ },
    { name: 'spec missing', yaml: 'apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {name: gemma, namespace: team-a}', field: 'spec', message: /is required/ },
    // GIE's CRD: matchLabels values are LabelValues (kubectl apply refuses others), at most 64 of them.
    { name: 'a label value with a slash (a model name)', yaml: poolWithSpec('selector: {matchLabels: {model: meta-llama/Llama-3.1-8B-Instruct}}\ntargetPorts: [{number: 8000}]'), field: 'spec.selector.matchLabels.model', message: /"meta-llama\/Llama-3\.1-8B-Instruct" is not a label value: only letters, digits, '-', '_' and '\.', beginning and ending with a letter or digit \(the API server refuses the pool/ },
    { name: 'a label value with a space', yaml: poolWithSpec('selector: {matchLabels: {app: "gemma server"}}\ntargetPorts: [{number: 8000}]'), field: 'spec.selector.matchLabels.app', message: /is not a label value/ },
    { name: 'a label value ending in a dash', yaml: poolWithSpec('selector: {matchLabels: {app: gemma-}}\ntargetPorts: [{number: 8000}]'), field: 'spec.selector.matchLabels.app', message: /is not a label value/ },
    { name: 'a label value past 63 characters', yaml: poolWithSpec(`selector: {matchLabels: {app: ${'a'.repeat(64)}}}\ntargetPorts: [{number: 8000}]`), field: 'spec.selector.matchLabels.app', message: /is 64 characters long; a label value has at most 63/ },
    { name: 'more than 64 labels', yaml: poolWithSpec(`selector: {matchLabels: {${Array.from({ length: 65 }, (_, i) => `l${i}: v`).join(', ')}}}\ntargetPorts: [{number: 8000}]`), field: 'spec.selector.matchLabels', message: /has 65 labels; at most 64/ },
    { name: 'wrong apiVersion', yaml: POOL.replace('inference.networking.k8s.io/v1', 'inference.networking.x-k8s.io/v1alpha2'), field: 'apiVersion', message: /inference.networking.k8s.io\/v1/ },
    {
      name: "GIE's v1alpha2 apiVersion: what v1 renames",
      yaml: POOL.replace('inference.networking.k8s.io/v1', 'inference.networking.x-k8s.io/v1alpha2'),
      field: 'apiVersion',
      message: /selector's labels go under spec\.selector\.matchLabels, spec\.targetPortNumber: N becomes spec\.targetPorts: \[\{number: N\}\], and spec\.extensionRef becomes spec\.endpointPickerRef/,
    },
    { name: "v1alpha2's selector on a v1 pool: the matchLabels meant", yaml: poolWithSpec('selector: {app: gemma}\ntargetPorts: [{number: 8000}]'), field: 'spec.selector.matchLabels', message: /v1alpha2 put the labels directly under spec\.selector; v1 puts them under spec\.selector\.matchLabels: \{app: gemma\}/ },
    { name: "v1alpha2's targetPortNumber on a v1 pool: the targetPorts meant", yaml: poolWithSpec('selector: {matchLabels: {app: gemma}}\ntargetPortNumber: 8000'), field: 'spec.targetPorts', message: /is required \(v1alpha2's targetPortNumber: 8000 is targetPorts: \[\{number: 8000\}\] in v1\)/ },
    { name: 'name missing', yaml: POOL.replace('name: gemma, ', ''), field: 'metadata.name', resource: '<unnamed>' },
    { name: 'numeric label value', yaml: POOL.replace('namespace: team-a', 'namespace: team-a, labels: {tier: 1}'), field: 'metadata.labels.tier' },
    // HTTPRoute
    { name: 'negative weight', yaml: routeWithSpec('rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: gemma, weight: -1}]}]'), field: 'spec.rules[0].backendRefs[0].weight', kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'InferencePool backendRef without group', yaml: routeWithSpec('rules: [{backendRefs: [{kind: InferencePool, name: gemma}]}]'), field: 'spec.rules[0].backendRefs[0].group', message: /inference.networking.k8s.io/, kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'backendRef without name', yaml: routeWithSpec('rules: [{}, {backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool}]}]'), field: 'spec.rules[1].backendRefs[0].name', kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'path not starting with /', yaml: routeWithSpec('rules: [{matches: [{path: {type: PathPrefix, value: v1}}]}]'), field: 'spec.rules[0].matches[0].path.value', message: /start with "\/"/, kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'unknown path type', yaml: routeWithSpec('rules: [{matches: [{path: {type: Prefix, value: /v1}}]}]'), field: 'spec.rules[0].matches[0].path.type', kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'invalid path regex', yaml: routeWithSpec('rules: [{matches: [{}, {path: {type: RegularExpression, value: "/v1/("}}]}]'), field: 'spec.rules[0].matches[1].path.value', message: /regular expression/, kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'header without name', yaml: routeWithSpec('rules: [{matches: [{headers: [{value: x}]}]}]'), field: 'spec.rules[0].matches[0].headers[0].name', kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'invalid header regex', yaml: routeWithSpec('rules: [{matches: [{headers: [{type: RegularExpression, name: a, value: "[a"}]}]}]'), field: 'spec.rules[0].matches[0].headers[0].value', message: /^is not a valid regular expression \(Unterminated character class\), got "\[a"$/, kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'an inline flag group JavaScript lacks (RE2 (?U), ungreedy)', yaml: routeWithSpec('rules: [{matches: [{headers: [{type: RegularExpression, name: a, value: "(?U)a+"}]}]}]'), field: 'spec.rules[0].matches[0].headers[0].value', message: /regular expression/, kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'query param without value', yaml: routeWithSpec('rules: [{matches: [{queryParams: [{name: a}]}]}]'), field: 'spec.rules[0].matches[0].queryParams[0].value', kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'unknown method', yaml: routeWithSpec('rules: [{matches: [{method: FETCH}]}]'), field: 'spec.rules[0].matches[0].method', kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'parentRef without name', yaml: routeWithSpec('parentRefs: [{kind: Gateway}]'), field: 'spec.parentRefs[0].name', kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'rules not a list', yaml: routeWithSpec('rules: {backendRefs: []}'), field: 'spec.rules', message: /must be a list/, kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'hostname with a port', yaml: routeWithSpec('hostnames: [api.example.com, "api.example.com:443"]'), field: 'spec.hostnames[1]', message: /without a scheme, port or path .*got "api\.example\.com:443"/, kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'hostname with a scheme', yaml: routeWithSpec('hostnames: ["https://api.example.com"]'), field: 'spec.hostnames[0]', message: /must be a hostname/, kind: 'HTTPRoute', resource: 'gemma-route' },
    { name: 'wildcard not a whole first label', yaml: routeWithSpec('hostnames: ["api-*.example.com"]'), field: 'spec.hostnames[0]', message: /must be a hostname/, kind: 'HTTPRoute', resource: 'gemma-route' },
    // InferenceObjective: llm-d's CRD has priority an int32
    { name: 'an objective priority past int32', yaml: 'apiVersion: llm-d.ai/v1alpha2\nkind: InferenceObjective\nmetadata: {name: batch, namespace: team-a}\nspec: {priority: 2147483648, poolRef: {name: p}}\n', field: 'spec.priority', message: /^must be an integer from -2147483648 to 2147483647, got number 2147483648$/, kind: 'InferenceObjective', resource: 'batch' },
    // InferenceModelRewrite: llm-d's CRD has targets[].weight minimum 1
    { name: 'a rewrite target of weight 0', yaml: 'apiVersion: llm-d.ai/v1alpha2\nkind: InferenceModelRewrite\nmetadata: {name: sql-canary, namespace: team-a}\nspec:\n  poolRef: {name: p}\n  rules: [{matches: [{model: {value: sql}}], targets: [{modelRewrite: sql-v1, weight: 100}, {modelRewrite: sql-v2, weight: 0}]}]\n', field: 'spec.rules[0].targets[1].weight', message: /^must be an integer from 1 to 1000000, got 0: the InferenceModelRewrite CRD refuses a weight of 0; remove the target to send it nothing$/, kind: 'InferenceModelRewrite', resource: 'sql-canary' },
    { name: 'a rewrite target of negative weight', yaml: 'apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceModelRewrite\nmetadata: {name: sql-canary, namespace: team-a}\nspec:\n  poolRef: {name: p}\n  rules: [{targets: [{modelRewrite: sql-v1, weight: -1}]}]\n', field: 'spec.rules[0].targets[0].weight', message: /from 1 to 1000000, got number -1/, kind: 'InferenceModelRewrite', resource: 'sql-canary' },
    { name: 'a rewrite rule with an empty targets list', yaml: 'apiVersion: llm-d.ai/v1alpha2\nkind: InferenceModelRewrite\nmetadata: {name: sql-canary, namespace: team-a}\nspec:\n  poolRef: {name: p}\n  rules: [{matches: [{model: {value: sql}}], targets: []}]\n', field: 'spec.rules[0].targets', message: /^must list at least one target; leave targets out for a rule that keeps the model name$/, kind: 'InferenceModelRewrite', resource: 'sql-canary' },
    // Pod
    { name: 'pod condition status not True/False/Unknown', yaml: podWithStatus('conditions: [{type: Ready, status: "yes"}]'), field: 'status.conditions[0].status', kind: 'Pod', resource: 'gemma-0' },
    { name: 'pod IP not a string', yaml: podWithStatus('podIP: 7'), field: 'status.podIP', kind: 'Pod', resource: 'gemma-0' },
    // ConfigMap
    {
      name: 'allowlist without baseModel',
      yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gemma-allowlist, namespace: team-a, labels: {inference.networking.k8s.io/bbr-managed: "true"}}\ndata: {adapters: "- a"}',
      field: 'data.baseModel',
      kind: 'ConfigMap',
      resource: 'gemma-allowlist',
    },
    {
      name: 'an unquoted bbr-managed: true is reported, not silently skipped',
      yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gemma-allowlist, namespace: team-a, labels: {inference.networking.k8s.io/bbr-managed: true}}\ndata: {baseModel: m}',
      field: 'metadata.labels.inference.networking.k8s.io/bbr-managed',
      message: /quote it/,
      kind: 'ConfigMap',
      resource: 'gemma-allowlist',
    },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = read(c.yaml);
      const issue = r.issues.find((i) => i.field === c.field);
      assert.ok(issue, `no issue for ${c.field}; got ${JSON.stringify(r.issues.map((i) => [i.field, i.message]))}`);
      const kind = c.kind ?? 'InferencePool';
      const namespace = c.namespace ?? 'team-a';
      const name = c.resource ?? 'gemma';
      assert.deepEqual(issue.location, { file: 'fleet/pools.yaml', document: 2, kind, namespace, name });
      if (c.message) assert.match(issue.message, c.message);
      const text = formatIssue(issue);
      for (const part of ['fleet/pools.yaml', '(document 2)', `${kind} ${namespace}/${name}`, `field ${c.field}:`, issue.message]) {
        assert.ok(text.includes(part), `${JSON.stringify(text)} lacks ${JSON.stringify(part)}`);
      }
    });
  }

  test('a document without kind or apiVersion says the field is missing (it said "got undefined undefined")', () => {
    const noKind = read('apiVersion: v1\nmetadata: {name: a}');
    assert.deepEqual(noKind.issues.map((i) => [i.field, i.message]), [['kind', 'is required']]);
    const noVersion = read('kind: Pod\nmetadata: {name: a}');
    assert.deepEqual(noVersion.issues.map((i) => [i.field, i.message]), [['apiVersion', 'Pod must have apiVersion v1, got nothing']]);
    assert.match(read('kind: 5').issues[0]!.message, /^is required, got number 5$/);
  });

  test('one pass reports every problem of an object, and ConfigError lists them all', () => {
    const r = read(poolWithSpec('selector: {matchLabels: {}}\ntargetPorts: [{number: 0}, {number: 99999}]\nappProtocol: grpc'));
    const fields = r.issues.map((i) => i.field);
    assert.deepEqual(fields, ['spec.selector.matchLabels', 'spec.targetPorts[0].number', 'spec.targetPorts[1].number', 'spec.appProtocol']);
    const err = new ConfigError(r.issues);
    assert.match(err.message, /^invalid configuration \(4 problems\):/);
    for (const i of r.issues) assert.ok(err.message.includes(formatIssue(i)));
  });

  test('a document that is not a mapping', () => {
    const r = readResource('just a string', AT);
    assert.ok('skipped' in r);
    assert.deepEqual(r.issues.map((i) => [i.field, i.location]), [['(document)', AT]]);
    assert.equal(formatIssue(r.issues[0]!), 'fleet/pools.yaml (document 2): field (document): must be a mapping, got "just a string"');
  });

  test('a document without kind', () => {
    const r = read('apiVersion: v1\nmetadata: {name: x}');
    assert.ok('skipped' in r);
    assert.deepEqual(r.issues.map((i) => i.field), ['kind']);
  });

  test('formatLocation defaults the namespace and the name', () => {
    assert.equal(formatLocation({ file: 'a.yaml', document: 3, kind: 'Pod' }), 'a.yaml (document 3) Pod default/<unnamed>');
    assert.equal(formatLocation({ file: 'a.yaml', document: 3 }), 'a.yaml (document 3)');
  });
});

describe('readResource: what is skipped', () => {
  const cases: { name: string; yaml: string; unknownKind?: string; hint?: RegExp }[] = [
    { name: 'a Deployment', yaml: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: vllm}', unknownKind: 'apps/v1/Deployment' },
    { name: 'a Service without apiVersion', yaml: 'kind: Service\nmetadata: {name: epp}', unknownKind: '?/Service' },
    { name: 'a misspelt kind of a group infergate reads: the kind meant', yaml: 'apiVersion: inference.networking.k8s.io/v1\nkind: InferencePoool\nmetadata: {name: p}', unknownKind: 'inference.networking.k8s.io/v1/InferencePoool', hint: /did you mean "InferencePool"/ },
    { name: "GIE's retired InferenceModel: what replaced it", yaml: 'apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceModel\nmetadata: {name: m}', unknownKind: 'inference.networking.x-k8s.io/v1alpha2/InferenceModel', hint: /replaced by InferenceObjective.*InferenceModelRewrite/ },
    { name: 'a kind of another group is no typo (InferencePoolImport, Node)', yaml: 'apiVersion: v1\nkind: Node\nmetadata: {name: n}', unknownKind: 'v1/Node' },
    { name: 'GIE\'s InferencePoolImport is no typo of InferencePool', yaml: 'apiVersion: inference.networking.k8s.io/v1alpha1\nkind: InferencePoolImport\nmetadata: {name: n}', unknownKind: 'inference.networking.k8s.io/v1alpha1/InferencePoolImport' },
    { name: 'a known kind in another case', yaml: 'apiVersion: v1\nkind: configmap\nmetadata: {name: c}', unknownKind: 'v1/configmap', hint: /did you mean "ConfigMap"/ },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = read(c.yaml);
      assert.ok('skipped' in r, 'expected the document to be skipped');
      assert.deepEqual(r.issues, []);
      assert.equal(r.unknownKind, c.unknownKind);
      if (c.hint) assert.match(r.hint ?? '', c.hint);
      else assert.equal(r.hint, undefined);
    });
  }
});

describe('readResource: a ConfigMap without exactly bbr-managed: "true" is plain data, not an allowlist', () => {
  const cases = [
    { name: 'no labels', yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app-config}\ndata: {baseModel: m}' },
    { name: 'bbr-managed "True"', yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {inference.networking.k8s.io/bbr-managed: "True"}}\ndata: {baseModel: m}' },
    { name: 'bbr-managed "yes"', yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {inference.networking.k8s.io/bbr-managed: "yes"}}\ndata: {baseModel: m}' },
    { name: 'bbr-managed "false"', yaml: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {inference.networking.k8s.io/bbr-managed: "false"}}\ndata: {baseModel: m}' },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = read(c.yaml);
      assert.ok('resource' in r);
      assert.equal(r.resource.kind, 'ConfigMap');
      assert.deepEqual(r.issues, []);
    });
  }
});

describe('readResource: unknown fields under spec are warnings naming the path (never issues)', () => {
  const POOL = 'apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {name: p}\nspec:\n  selector: {matchLabels: {app: a}}\n  targetPorts: [{number: 8000}]\n';
  const ROUTE = 'apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\nspec:\n  rules:\n';
  const cases: { name: string; yaml: string; want: string[] }[] = [
    { name: 'a clean pool', yaml: POOL, want: [] },
    { name: 'a pool: a typo, the name meant', yaml: `${POOL}  endpointPickRef: {name: epp}\n`, want: ['spec.endpointPickRef warning'] },
    { name: 'a pool: inside endpointPickerRef', yaml: `${POOL}  endpointPickerRef: {name: epp, port: {number: 9002, protocol: TCP}, failMode: FailOpen}\n`, want: ['spec.endpointPickerRef.failMode warning', 'spec.endpointPickerRef.port.protocol warning'] },
    { name: 'what the API server adds is no typo', yaml: `${POOL}status: {parents: []}\n`.replace('metadata: {name: p}', 'metadata: {name: p, uid: u, resourceVersion: "1", generation: 2, managedFields: []}'), want: [] },
    { name: 'a route: Gateway API fields infergate ignores are no typos', yaml: `${ROUTE}    - name: r0\n      filters: []\n      timeouts: {request: 1s}\n      backendRefs: [{name: p, group: inference.networking.k8s.io, kind: InferencePool, port: 8000, filters: []}]\n`, want: [] },
    { name: 'a route: header for headers misroutes', yaml: `${ROUTE}    - matches: [{header: [{name: x, value: y}]}]\n`, want: ['spec.rules[0].matches[0].header error'] },
    { name: 'a route: inside a header match and a backendRef', yaml: `${ROUTE}    - matches: [{headers: [{nam: x, name: x, value: y}]}]\n      backendRefs: [{name: p, wieght: 2}]\n`, want: ['spec.rules[0].backendRefs[0].wieght error', 'spec.rules[0].matches[0].headers[0].nam error'] },
    { name: 'an objective', yaml: 'apiVersion: llm-d.ai/v1alpha2\nkind: InferenceObjective\nmetadata: {name: o}\nspec: {priority: 1, criticality: Critical, poolRef: {name: p, namespce: x}}\n', want: ['spec.criticality warning', 'spec.poolRef.namespce warning'] },
    { name: 'a rewrite: a target without a weight beside weighted ones', yaml: 'apiVersion: llm-d.ai/v1alpha2\nkind: InferenceModelRewrite\nmetadata: {name: w}\nspec:\n  poolRef: {name: p}\n  rules: [{targets: [{modelRewrite: a, weight: 90}, {modelRewrite: b}]}]\n', want: ['spec.rules[0].targets[1].weight warning'] },
    { name: 'a rewrite: a rule key misroutes', yaml: 'apiVersion: llm-d.ai/v1alpha2\nkind: InferenceModelRewrite\nmetadata: {name: w}\nspec:\n  poolRef: {name: p}\n  rules: [{match: [{model: {value: a}}], targets: [{modelRewrite: b}]}]\n', want: ['spec.rules[0].match error'] },
  ];
  for (const c of cases) {
    test(c.name, () => {
      const r = read(c.yaml);
      assert.ok('resource' in r, JSON.stringify(r.issues));
      assert.deepEqual(r.issues, []);
      assert.deepEqual((r.warnings ?? []).map((w) => `${w.field} ${w.misroutes ? 'error' : 'warning'}`).sort(), c.want);
    });
  }
});
