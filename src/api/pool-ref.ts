/** `spec.poolRef` of the GIE alpha resources: which InferencePool (same namespace) they apply to. */
import type { FieldReader, Raw } from './field-reader.js';

export function readPoolRef(r: FieldReader, raw: Raw, namespace: string): string {
  const o = r.object(raw, 'spec.poolRef', true) ?? {};
  r.unknownKeys(o, 'spec.poolRef', ['group', 'kind', 'name']);
  const kind = r.string(o.kind, 'spec.poolRef.kind');
  if (kind !== undefined && kind !== 'InferencePool') r.fail('spec.poolRef.kind', `must be InferencePool, got ${JSON.stringify(kind)}`);
  const name = r.string(o.name, 'spec.poolRef.name', true) ?? '';
  return `${namespace}/${name}`;
}
