/**
 * The string formats GIE's CRDs allow for InferencePool fields (api/v1/shared_types.go: LabelValue, Kind,
 * Group): what the API server refuses, checked when the pool comes from files so `validate -f` and `serve -f` refuse what
 * `kubectl apply` would.
 */

// LabelValue: at most 63 characters; empty, or alphanumeric at both ends with '-', '_' and '.' between.
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
// Kind: at most 63 characters, a letter first.
const KIND = /^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/;
// Group: empty (the core group) or an RFC 1123 subdomain of at most 253 characters.
const GROUP = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why `value` cannot be a label value (GIE's LabelValue, as Kubernetes' own labels), or undefined when it can. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return `is ${value.length} characters long; a label value has at most 63`;
  if (!LABEL_VALUE.test(value)) {
    return `${JSON.stringify(value)} is not a label value: only letters, digits, '-', '_' and '.', beginning and ending with a letter or digit`;
  }
  return undefined;
}

/** Why `kind` cannot be a Kubernetes kind (GIE's Kind), or undefined when it can. */
export function kindProblem(kind: string): string | undefined {
  if (kind.length === 0) return 'must not be empty (leave it out for Service)';
  if (kind.length > 63 || !KIND.test(kind)) return `${JSON.stringify(kind)} is not a kind: at most 63 letters, digits and '-', a letter first (Service)`;
  return undefined;
}

/** Why `group` cannot be an API group (GIE's Group), or undefined when it can. */
export function groupProblem(group: string): string | undefined {
  if (group.length > 253 || !GROUP.test(group)) return `${JSON.stringify(group)} is not an API group: "" (the core group, a Service's) or a lowercase DNS name such as example.com`;
  return undefined;
}
