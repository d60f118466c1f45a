/** The Kubernetes resources infergate lists and watches, and their REST paths. */
import { LEGACY_INFERENCE_GROUP, LLM_D_GROUP } from '../../api/llm-d-names.js';

export interface ResourceType {
  readonly kind: string;
  readonly apiVersion: string;
  /** The REST resource name: `inferencepools`. */
  readonly plural: string;
  /**
   * An optional resource whose CRD is not installed (404) or which RBAC does not grant (403) counts as empty
   * and is retried slowly, instead of holding readiness back: the alpha CRDs are often not installed.
   */
  readonly optional: boolean;
}

export const INFERENCE_POOLS: ResourceType = { kind: 'InferencePool', apiVersion: 'inference.networking.k8s.io/v1', plural: 'inferencepools', optional: false };
export const HTTP_ROUTES: ResourceType = { kind: 'HTTPRoute', apiVersion: 'gateway.networking.k8s.io/v1', plural: 'httproutes', optional: false };
// Gateways and GatewayClasses, read only to write their status as the gateway (status-writer.ts). Optional: without the
// CRDs or the RBAC, routing is the same and only their status is not written. GatewayClasses are cluster-scoped.
export const GATEWAYS: ResourceType = { kind: 'Gateway', apiVersion: 'gateway.networking.k8s.io/v1', plural: 'gateways', optional: true };
export const GATEWAY_CLASSES: ResourceType = { kind: 'GatewayClass', apiVersion: 'gateway.networking.k8s.io/v1', plural: 'gatewayclasses', optional: true };
export const CONFIG_MAPS: ResourceType = { kind: 'ConfigMap', apiVersion: 'v1', plural: 'configmaps', optional: false };
export const PODS: ResourceType = { kind: 'Pod', apiVersion: 'v1', plural: 'pods', optional: false };
// The Services pools' endpointPickerRefs name, one by name each (src/epp/picker-ref.ts). Optional: without RBAC
// for Services the refs are not checked, and pools are served as before, rather than readiness held back.
export const SERVICES: ResourceType = { kind: 'Service', apiVersion: 'v1', plural: 'services', optional: true };
// Both groups are watched; either CRD may be missing (llm-d's replaces GIE's, and clusters have one or both).
export const INFERENCE_OBJECTIVES: ResourceType = { kind: 'InferenceObjective', apiVersion: `${LLM_D_GROUP}/v1alpha2`, plural: 'inferenceobjectives', optional: true };
export const INFERENCE_MODEL_REWRITES: ResourceType = { kind: 'InferenceModelRewrite', apiVersion: `${LLM_D_GROUP}/v1alpha2`, plural: 'inferencemodelrewrites', optional: true };
export const LEGACY_INFERENCE_OBJECTIVES: ResourceType = { ...INFERENCE_OBJECTIVES, apiVersion: `${LEGACY_INFERENCE_GROUP}/v1alpha2` };
export const LEGACY_INFERENCE_MODEL_REWRITES: ResourceType = { ...INFERENCE_MODEL_REWRITES, apiVersion: `${LEGACY_INFERENCE_GROUP}/v1alpha2` };

/** `/api/v1/namespaces/ns/pods`, or `/apis/group/version/plural` across all namespaces when `namespace` is undefined. */
export function collectionPath(type: ResourceType, namespace: string | undefined): string {
  const base = type.apiVersion.includes('/') ? `/apis/${type.apiVersion}` : `/api/${type.apiVersion}`;
  return namespace === undefined ? `${base}/${type.plural}` : `${base}/namespaces/${encodeURIComponent(namespace)}/${type.plural}`;
}

/** The path of one object's subresource, e.g. `.../inferencepools/name/status`. */
export function objectPath(type: ResourceType, namespace: string, name: string, subresource?: string): string {
  return `${collectionPath(type, namespace)}/${encodeURIComponent(name)}${subresource ? `/${subresource}` : ''}`;
}

/** `InferenceObjectives`, `GatewayClasses`: a kind in the plural, for messages. */
export function kindPlural(kind: string): string {
  return /(s|x|z|ch|sh)$/.test(kind) ? `${kind}es` : `${kind}s`;
}
