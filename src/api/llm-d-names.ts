/**
 * The names llm-d uses now beside the ones the field report's GIE used (ANCHORS §0): both are read, the new
 * ones win where both are present, and docs show the new ones first.
 */

/** llm-d's API group for InferenceObjective and InferenceModelRewrite (v1alpha2), and EndpointPickerConfig. */
export const LLM_D_GROUP = 'llm-d.ai';
/** The group the same kinds had under GIE (≤ v1.5); still read. */
export const LEGACY_INFERENCE_GROUP = 'inference.networking.x-k8s.io';

/** The apiVersions of InferenceObjective and InferenceModelRewrite, the current one first. */
export const OBJECTIVE_API_VERSIONS: readonly string[] = [`${LLM_D_GROUP}/v1alpha2`, `${LEGACY_INFERENCE_GROUP}/v1alpha2`];

/** The group of an apiVersion such as `llm-d.ai/v1alpha2` (empty for the core group's `v1`). */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.lastIndexOf('/');
  return slash < 0 ? '' : apiVersion.slice(0, slash);
}

/** A request header under llm-d's name and the name the report's GIE gave it (router `pkg/epp/metadata/consts.go`). */
export interface AliasedHeader {
  readonly name: string;
  readonly alias: string;
}

/** Names the request's fairness group (a tenant): a metrics label today. */
export const FAIRNESS_ID_HEADER: AliasedHeader = { name: 'x-llm-d-inference-fairness-id', alias: 'x-gateway-inference-fairness-id' };

/** Names the request's InferenceObjective. */
export const OBJECTIVE_HEADER: AliasedHeader = { name: 'x-llm-d-inference-objective', alias: 'x-gateway-inference-objective' };

/**
 * Names the model to send instead of the body's, set by the data plane (llm-d's director takes it as the target
 * model; an InferenceModelRewrite of the pool then applies to that target).
 */
export const MODEL_NAME_REWRITE_HEADER: AliasedHeader = { name: 'x-llm-d-model-name-rewrite', alias: 'x-gateway-model-name-rewrite' };

/** A header's value under its new name, else under its old one. `get` takes lower-case names. */
export function aliasedHeader(get: (name: string) => string | undefined, h: AliasedHeader): string | undefined {
  return get(h.name) ?? get(h.alias);
}
