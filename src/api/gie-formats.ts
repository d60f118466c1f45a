/**
 * The string formats GIE's CRDs allow for InferencePool fields (api/v1/shared_types.go: LabelValue): what the
 * API server refuses, checked when the pool comes from files so `validate -f` and `serve -f` refuse what
 * `kubectl apply` would.
 */

// LabelValue: at most 63 characters; empty, or alphanumeric at both ends with '-', '_' and '.' between.
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

/** Why `value` cannot be a label value (GIE's LabelValue, as Kubernetes' own labels), or undefined when it can. */
export function labelValueProblem(value: string): string | undefined {
  if (value.length > 63) return `is ${value.length} characters long; a label value has at most 63`;
  if (!LABEL_VALUE.test(value)) {
    return `${JSON.stringify(value)} is not a label value: only letters, digits, '-', '_' and '.', beginning and ending with a letter or digit`;
  }
  return undefined;
}
