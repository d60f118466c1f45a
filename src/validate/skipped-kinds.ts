/**
 * Which kinds `-f` holds that infergate does not read are worth a finding. A manifest directory holds the
 * gateway's ServiceAccount, Roles, Services, Istio and Envoy objects beside the pools and routes: those are
 * counted in the summary, not reported, so a directory `kubectl apply` takes as it is validates clean. A kind
 * that may have been meant as one infergate reads (a misspelling, GIE's retired InferenceModel, another kind
 * of the inference or llm-d groups, a GRPCRoute or TLSRoute that no gateway sends to a pool) stays a warning.
 */
import type { ConfigWarning } from '../api/config-issue.js';
import { INFERENCE_POOL_GROUP } from '../api/inference-pool.js';
import { LEGACY_INFERENCE_GROUP, LLM_D_GROUP, groupOf } from '../api/llm-d-names.js';
import { unknownKindHint } from '../api/resource.js';
import type { RawObject } from './model-servers.js';

const INFERENCE_GROUPS = new Set([INFERENCE_POOL_GROUP, LEGACY_INFERENCE_GROUP, LLM_D_GROUP]);

/** True when a kind infergate skips may have been meant as one it reads, or names an object it would route by. */
export function mayBeMeant(apiVersion: unknown, kind: string): boolean {
  if (typeof apiVersion !== 'string' || apiVersion === '') return true;
  if (unknownKindHint(kind, apiVersion) !== undefined) return true;
  const group = groupOf(apiVersion);
  if (INFERENCE_GROUPS.has(group) || group.endsWith(`.${LLM_D_GROUP}`)) return true;
  return group === 'gateway.networking.k8s.io' && kind.endsWith('Route');
}

/**
 * Splits the reader's unknown-kind warnings: those worth a finding stay; the others' kinds are counted over
 * every object of that apiVersion and kind (`ServiceAccount` -> 2), for the summary.
 */
export function splitSkippedKinds(warnings: readonly ConfigWarning[], raw: readonly RawObject[]): { warnings: ConfigWarning[]; skipped: Record<string, number> } {
  const unread = new Set<string>();
  const kept = warnings.filter((w) => {
    if (w.field !== 'kind' || w.location.kind === undefined) return true;
    const doc = raw.find((r) => r.at.file === w.location.file && r.at.document === w.location.document && r.at.item === w.location.item);
    const apiVersion = (doc?.raw as { apiVersion?: unknown } | null)?.apiVersion;
    if (mayBeMeant(apiVersion, w.location.kind)) return true;
    unread.add(`${String(apiVersion)}/${w.location.kind}`);
    return false;
  });
  const skipped: Record<string, number> = {};
  for (const r of raw) {
    const o = r.raw as { apiVersion?: unknown; kind?: unknown } | null;
    if (o && typeof o.kind === 'string' && unread.has(`${String(o.apiVersion)}/${o.kind}`)) skipped[o.kind] = (skipped[o.kind] ?? 0) + 1;
  }
  return { warnings: kept, skipped };
}
