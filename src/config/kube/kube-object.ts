/** A Kubernetes object as the API server sends it, and the two things every copy of one needs: its key and its kind. */
import type { ResourceType } from './resource-types.js';

/** A Kubernetes object as JSON. Items of a list carry no kind/apiVersion on the wire; the reflector adds them. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; generation?: number; [k: string]: unknown };
  [k: string]: unknown;
}

/** `namespace/name` (`/name` for a cluster-scoped object): unique within one collection. */
export function objectKey(obj: KubeObject): string {
  return `${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

/** The object with the kind and apiVersion of `type` where it lacks them: items of a list come without both. */
export function withKind(raw: KubeObject, type: ResourceType): KubeObject {
  if (raw.kind && raw.apiVersion) return raw;
  return { ...raw, kind: raw.kind || type.kind, apiVersion: raw.apiVersion || type.apiVersion };
}
