/** Kubernetes object metadata as infergate uses it. */
import type { SourceLocation } from './config-issue.js';
import type { FieldReader, Raw } from './field-reader.js';

export const DEFAULT_NAMESPACE = 'default';

export interface ObjectMeta {
  name: string;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  /** RFC 3339 creation time when given; used for Gateway API route precedence (oldest first). */
  creationTimestamp?: string;
}

/** A resource as loaded: its metadata and where it was declared. */
export interface Located {
  meta: ObjectMeta;
  source: SourceLocation;
}

export function readMeta(r: FieldReader, raw: Raw): ObjectMeta {
  const m = r.object(raw, 'metadata', true) ?? {};
  const name = r.string(m.name, 'metadata.name', true) ?? '<unnamed>';
  const namespace = r.string(m.namespace, 'metadata.namespace') || DEFAULT_NAMESPACE;
  const labels = r.stringMap(m.labels, 'metadata.labels');
  const annotations = r.stringMap(m.annotations, 'metadata.annotations');
  const ts = m.creationTimestamp;
  const meta: ObjectMeta = { name, namespace, labels, annotations };
  if (typeof ts === 'string') meta.creationTimestamp = ts;
  else if (ts instanceof Date) meta.creationTimestamp = ts.toISOString();
  return meta;
}

/** `namespace/name`, the key resources are indexed by. */
export function keyOf(meta: { namespace: string; name: string }): string {
  return `${meta.namespace}/${meta.name}`;
}
