/** Turns objects from the API server into infergate's resources, setting aside (and explaining) the invalid ones. */
import { formatIssue } from '../../api/config-issue.js';
import { readResource, type ReadResult, type Resource } from '../../api/resource.js';
import type { KubeObject } from './kube-object.js';
import { LLM_D_GROUP } from '../../api/llm-d-names.js';

/** Where resources read from the API server say they came from, in error messages and `explain`. */
export const KUBE_SOURCE_FILE = 'kubernetes';

export interface ReadObjects {
  resources: Resource[];
  /** `Kind/namespace/name` -> why the object was set aside (it stays out of the snapshot until fixed). */
  rejected: Map<string, string[]>;
  /**
   * What the readers took but warn about (an unknown key under \`spec\`, an allowlist entry skipped as llm-d skips
   * it), formatted: logged as a file's are, since an object with only warnings is used.
   */
  warnings: string[];
}

/** The InferencePools set aside (`rejected`), by `namespace/name`, with their problems: the snapshot's `invalidPools`. */
export function invalidPools(rejected: ReadonlyMap<string, string[]>): Map<string, string[]> {
  const prefix = 'InferencePool/';
  return new Map([...rejected].filter(([id]) => id.startsWith(prefix)).map(([id, problems]) => [id.slice(prefix.length), problems]));
}

/**
 * `InferencePool/llm/gemma`: the id objects are deduplicated and reported by. llm-d's InferenceObjectives and
 * InferenceModelRewrites carry their group (`InferenceObjective.llm-d.ai/llm/chat`): the same name in the legacy
 * group is another object.
 */
export function objectId(obj: KubeObject): string {
  const group = typeof obj.apiVersion === 'string' && obj.apiVersion.startsWith(`${LLM_D_GROUP}/`) ? `.${LLM_D_GROUP}` : '';
  return `${obj.kind}${group}/${obj.metadata.namespace ?? 'default'}/${obj.metadata.name}`;
}

/**
 * Reads every object once (the same ConfigMap may come from two watches: an allowlist that a pool also names
 * for its EndpointPickerConfig). An object with any problem is left out whole, as a file would be rejected
 * whole: half an InferencePool is worse than none. Terminating pods are left out: they are draining.
 */
export function readObjects(objects: Iterable<KubeObject>, cache?: WeakMap<KubeObject, ReadResult>): ReadObjects {
  const out: ReadObjects = { resources: [], rejected: new Map(), warnings: [] };
  const seen = new Set<string>();
  for (const obj of objects) {
    const id = objectId(obj);
    if (seen.has(id)) continue;
    seen.add(id);
    if (obj.kind === 'Pod' && obj.metadata.deletionTimestamp) continue;
    // A watch event brings a new object, so an object seen before has been read before: with a cache, a
    // change to one pod re-reads that pod, not the whole cluster.
    let result = cache?.get(obj);
    if (!result) {
      result = readResource(obj, { file: KUBE_SOURCE_FILE, document: 0 });
      cache?.set(obj, result);
    }
    if (result.issues.length > 0) out.rejected.set(id, result.issues.map(formatIssue));
    else if ('resource' in result) {
      out.resources.push(result.resource);
      for (const w of result.warnings ?? []) out.warnings.push(formatIssue(w));
    }
  }
  return out;
}

/**
 * What of a Pod matters to infergate: labels, IP, readiness, deletion and its `infergate.io/` annotations (the
 * KV-event ports); status churn (container restarts, timestamps) and other annotations do not rebuild anything.
 */
export function podView(obj: KubeObject): string {
  const status = (obj.status ?? {}) as { podIP?: unknown; conditions?: { type?: unknown; status?: unknown }[] };
  const ready = Array.isArray(status.conditions) ? status.conditions.find((c) => c?.type === 'Ready')?.status : undefined;
  const annotations = Object.entries((obj.metadata.annotations ?? {}) as Record<string, unknown>).filter(([k]) => k.startsWith('infergate.io/'));
  return JSON.stringify([obj.metadata.labels ?? {}, status.podIP ?? null, ready ?? null, obj.metadata.deletionTimestamp ?? null, annotations]);
}

/** What of other objects matters: everything but status (infergate writes pool status itself) and bookkeeping. */
export function specView(obj: KubeObject): string {
  const { resourceVersion: _rv, managedFields: _mf, generation: _g, ...meta } = obj.metadata;
  const { status: _status, ...rest } = obj;
  return JSON.stringify({ ...rest, metadata: meta });
}
