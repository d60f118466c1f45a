/** Turns one parsed YAML document into a typed resource, or explains why it cannot. */
import type { ConfigIssue, ConfigWarning, SourceLocation } from './config-issue.js';
import { FieldReader, describe, type Raw } from './field-reader.js';
import { readMeta, type Located } from './object-meta.js';
import { readInferencePool, type InferencePool, INFERENCE_POOL_GROUP, V1ALPHA2_POOL_MIGRATION } from './inference-pool.js';
import { readHTTPRoute, type HTTPRoute } from './http-route.js';
import { readPod, type Pod } from './pod.js';
import { readAllowlist, isAllowlist, type Allowlist } from './allowlist.js';
import { LEGACY_INFERENCE_GROUP, OBJECTIVE_API_VERSIONS, groupOf } from './llm-d-names.js';
import { readInferenceObjective, type InferenceObjective } from './inference-objective.js';
import { readInferenceModelRewrite, type InferenceModelRewrite } from './inference-model-rewrite.js';
import { readConfigMapData, type PlainConfigMap } from './plain-config-map.js';
import { readService, type Service } from './service.js';
import { closestName } from './closest-name.js';

export type Resource = InferencePool | HTTPRoute | Pod | Allowlist | InferenceObjective | InferenceModelRewrite | PlainConfigMap | Service;

export type ReadResult =
  /** `warnings`: what the reader ignored that the user likely meant (unknown fields under `spec`). */
  | { resource: Resource; issues: ConfigIssue[]; warnings?: ConfigWarning[] }
  /**
   * A document infergate does not act on (another kind). `unknownKind` is `apiVersion/kind`; `hint`, when
   * set, is what was likely meant (` (did you mean "InferencePool"?)`).
   */
  | { skipped: string; unknownKind?: string; hint?: string; issues: ConfigIssue[] };

/** The apiVersions accepted per kind; others are reported so a typo does not silently drop a resource. */
const API_VERSIONS: Record<string, readonly string[]> = {
  InferencePool: [`${INFERENCE_POOL_GROUP}/v1`],
  HTTPRoute: ['gateway.networking.k8s.io/v1', 'gateway.networking.k8s.io/v1beta1'],
  ConfigMap: ['v1'],
  Pod: ['v1'],
  InferenceObjective: OBJECTIVE_API_VERSIONS,
  InferenceModelRewrite: OBJECTIVE_API_VERSIONS,
  // Files only (the Kubernetes source watches Services itself): where an external endpoint picker is reached.
  Service: ['v1'],
};

export function readResource(raw: Raw, at: SourceLocation): ReadResult {
  const top = new FieldReader(at);
  const obj = top.object(raw, '(document)', true);
  if (!obj) return { skipped: 'not a mapping', issues: top.issues };
  const kind = typeof obj.kind === 'string' ? obj.kind : undefined;
  const apiVersion = typeof obj.apiVersion === 'string' ? obj.apiVersion : undefined;
  if (!kind) {
    top.fail('kind', obj.kind === undefined ? 'is required' : `is required, got ${describe(obj.kind)}`);
    return { skipped: 'no kind', issues: top.issues };
  }
  const meta0 = obj.metadata && typeof obj.metadata === 'object' ? (obj.metadata as Record<string, Raw>) : {};
  const location: SourceLocation = {
    ...at,
    kind,
    namespace: typeof meta0.namespace === 'string' && meta0.namespace ? meta0.namespace : 'default',
    name: typeof meta0.name === 'string' ? meta0.name : '<unnamed>',
  };
  const allowed = API_VERSIONS[kind];
  // A Service is read only for an external picker's address: one infergate cannot read is skipped, never an error.
  if (kind === 'Service' && apiVersion !== 'v1') return { skipped: `kind ${kind} is not used by infergate`, unknownKind: `${apiVersion ?? '?'}/${kind}`, issues: [] };
  if (!allowed) {
    const hint = unknownKindHint(kind, apiVersion);
    return { skipped: `kind ${kind} is not used by infergate`, unknownKind: `${apiVersion ?? '?'}/${kind}`, ...(hint ? { hint } : {}), issues: [] };
  }
  const r = new FieldReader(location);
  if (!apiVersion || !allowed.includes(apiVersion)) {
    // GIE's InferencePool went from inference.networking.x-k8s.io/v1alpha2 to v1 with fields renamed: bumping the apiVersion alone is not enough.
    const migration = kind === 'InferencePool' && apiVersion === `${LEGACY_INFERENCE_GROUP}/v1alpha2` ? `. ${V1ALPHA2_POOL_MIGRATION}` : '';
    r.fail('apiVersion', `${kind} must have apiVersion ${allowed.join(' or ')}, got ${describe(obj.apiVersion)}${migration}`);
    return { skipped: 'wrong apiVersion', issues: r.issues };
  }
  const meta = readMeta(r, obj.metadata);
  const base: Located = { meta, source: location };
  switch (kind) {
    case 'InferencePool':
      return { resource: readInferencePool(r, obj, base), issues: r.issues, warnings: r.warnings };
    case 'HTTPRoute':
      return { resource: readHTTPRoute(r, obj, base), issues: r.issues, warnings: r.warnings };
    case 'Pod':
      return { resource: readPod(r, obj, base), issues: r.issues };
    case 'InferenceObjective':
      return { resource: readInferenceObjective(r, obj, base, groupOf(apiVersion)), issues: r.issues, warnings: r.warnings };
    case 'InferenceModelRewrite':
      return { resource: readInferenceModelRewrite(r, obj, base, groupOf(apiVersion)), issues: r.issues, warnings: r.warnings };
    case 'Service':
      return { resource: readService(obj, base), issues: [] };
    default: {
      // ConfigMap: BBR allowlists are read; any other ConfigMap is kept as plain data, which an
      // InferencePool may reference for its EndpointPickerConfig.
      if (!isAllowlist(meta.labels)) return { resource: readConfigMapData(r, obj, base), issues: r.issues };
      return { resource: readAllowlist(r, obj, base), issues: r.issues, warnings: r.warnings };
    }
  }
}

/** The groups of the kinds infergate reads, bar the core group (where `Node` is no typo of `Pod`). */
const READ_GROUPS = new Set([INFERENCE_POOL_GROUP, ...OBJECTIVE_API_VERSIONS.map(groupOf), 'gateway.networking.k8s.io']);

/**
 * What a kind infergate does not read was likely meant to be: GIE's retired InferenceModel, or a kind of a
 * group infergate reads one or two edits away (`InferencePoool`), or one spelt in another case (`configmap`).
 */
export function unknownKindHint(kind: string, apiVersion: string | undefined): string | undefined {
  // GIE v1.0 split InferenceModel into InferenceObjective (priority) and InferenceModelRewrite (model names).
  if (kind === 'InferenceModel') return ' (InferenceModel was replaced by InferenceObjective, for a priority, and InferenceModelRewrite, for model name rewrites; infergate reads those)';
  const known = Object.keys(API_VERSIONS);
  const meant = READ_GROUPS.has(groupOf(apiVersion ?? '')) ? closestName(kind, known, 2) : known.find((k) => k.toLowerCase() === kind.toLowerCase());
  return meant === undefined ? undefined : ` (did you mean "${meant}"?)`;
}
