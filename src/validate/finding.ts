/** One problem `infergate validate` reports: the object, the field, what is wrong and how to fix it. */
import type { SourceLocation } from '../api/config-issue.js';
import type { Located } from '../api/object-meta.js';

/** `error`: traffic this object should carry fails. `warning`: it works here, but is fragile or fails elsewhere. */
export type Severity = 'error' | 'warning';

/** The Kubernetes object a finding is about, as `kubectl get KIND -n NAMESPACE NAME` names it. */
export interface ObjectRef {
  kind: string;
  namespace: string;
  name: string;
}

/** Where the object was declared with `-f`; null for objects read from the Kubernetes API. */
export interface FindingLocation {
  file: string;
  /** 1-based YAML document within the file. */
  document: number;
  /** 0-based index in the document's `items`, only when it is a `kind: List` (a `kubectl get -o yaml` export). */
  item?: number;
}

/** Where a SourceLocation was declared; null for objects from the API server (document 0). */
export function findingLocation(source: SourceLocation): FindingLocation | null {
  if (source.document <= 0) return null;
  return { file: source.file, document: source.document, ...(source.item !== undefined ? { item: source.item } : {}) };
}

/**
 * A finding as `--output json` prints it. The shape is stable: fields are only ever added. `code` names the
 * kind of problem (`backend-pool-missing`), the same for every object it applies to.
 */
export interface Finding {
  severity: Severity;
  code: string;
  object: ObjectRef | null;
  location: FindingLocation | null;
  /** Dotted path in the object, such as `spec.rules[0].backendRefs[1]`; null when the whole object is meant. */
  field: string | null;
  message: string;
  fix: string;
}

/** The object and location of a resource, for a finding about it. */
export function subjectOf(resource: Located): Pick<Finding, 'object' | 'location'> {
  return subjectAt(resource.source, resource.meta);
}

/** The object and location of a SourceLocation (objects from the API server have document 0: no location). */
export function subjectAt(source: SourceLocation, meta?: { namespace: string; name: string }): Pick<Finding, 'object' | 'location'> {
  const kind = source.kind;
  const object = kind ? { kind, namespace: meta?.namespace ?? source.namespace ?? 'default', name: meta?.name ?? source.name ?? '<unnamed>' } : null;
  return { object, location: findingLocation(source) };
}

/** `HTTPRoute llm-d/phi3-route`. */
export function formatObject(ref: ObjectRef): string {
  return `${ref.kind} ${ref.namespace}/${ref.name}`;
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1 };

/**
 * The order findings are printed in, the same on every run: errors first, then by file and document (or by
 * object for the Kubernetes API), field, code, a syntax error's line and column, and message.
 */
export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    compare(a.location?.file ?? '', b.location?.file ?? '') ||
    (a.location?.document ?? 0) - (b.location?.document ?? 0) ||
    (a.location?.item ?? -1) - (b.location?.item ?? -1) ||
    compare(a.object ? formatObject(a.object) : '', b.object ? formatObject(b.object) : '') ||
    compare(a.field ?? '', b.field ?? '') ||
    compare(a.code, b.code) ||
    lineOf(a.message) - lineOf(b.message) ||
    compare(a.message, b.message)
  );
}

/** A YAML syntax error's line and column as one number (line 9 before line 10); 0 for other messages. */
function lineOf(message: string): number {
  const m = /^YAML syntax error at line (\d+), column (\d+)/.exec(message);
  return m ? Number(m[1]) * 1e6 + Number(m[2]) : 0;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
