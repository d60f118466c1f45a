/** The `infergate.io/` annotations infergate reads, per kind: any other in that namespace is a warning, not silence. */
import { closestName } from '../api/closest-name.js';
import type { ConfigIssue } from '../api/config-issue.js';
import type { Resource } from '../api/resource.js';
import { EPP_CONFIG_ANNOTATION } from '../api/endpoint-picker-config-annotation.js';
import { KV_EVENTS_PORT_ANNOTATION, KV_EVENTS_REPLAY_PORT_ANNOTATION } from '../kvevents/kv-events-settings.js';
import { API_KEY_FILE_ANNOTATION, API_KEY_SECRET_ANNOTATION, looksLikeApiKeyAnnotation } from '../upstream/api-key-source.js';
import { ANNOTATION_PREFIX } from '../upstream/setting.js';
import { UPSTREAM_ANNOTATIONS } from '../upstream/upstream-policy.js';

/** Kind (as the document names it) -> the annotations infergate reads on it. */
export const KNOWN_ANNOTATIONS: Readonly<Record<string, readonly string[]>> = {
  InferencePool: [EPP_CONFIG_ANNOTATION, API_KEY_FILE_ANNOTATION, API_KEY_SECRET_ANNOTATION, ...UPSTREAM_ANNOTATIONS],
  Pod: [KV_EVENTS_PORT_ANNOTATION, KV_EVENTS_REPLAY_PORT_ANNOTATION],
};

const ALL_KNOWN = Object.values(KNOWN_ANNOTATIONS).flat();

/**
 * One warning per `infergate.io/` annotation that infergate does not read on that object (a typo such as
 * `infergate.io/stream-idle-timout` would otherwise change nothing without a word), with the closest known
 * name. Key look-alikes on a pool are left to poolApiKeySource, which warns about them in its own words.
 */
export function unknownAnnotations(resources: readonly Resource[]): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const r of resources) {
    const kind = r.source.kind ?? r.kind;
    const known = KNOWN_ANNOTATIONS[kind] ?? [];
    for (const name of Object.keys(r.meta.annotations)) {
      if (!name.startsWith(ANNOTATION_PREFIX) || known.includes(name)) continue;
      if (kind === 'InferencePool' && looksLikeApiKeyAnnotation(name)) continue;
      out.push({ location: r.source, field: `metadata.annotations.${name}`, message: unknownMessage(name, kind, known) });
    }
  }
  return out;
}

function unknownMessage(name: string, kind: string, known: readonly string[]): string {
  const close = closestName(name, known);
  if (close !== undefined) return `is not an annotation infergate reads, so it changes nothing (did you mean "${close}"?)`;
  const elsewhere = ALL_KNOWN.includes(name) ? Object.keys(KNOWN_ANNOTATIONS).find((k) => KNOWN_ANNOTATIONS[k]!.includes(name)) : undefined;
  if (elsewhere !== undefined) return `is read on ${elsewhere}s only, not on a ${kind}, so here it changes nothing`;
  const hint = known.length > 0 ? `; on a ${kind} it reads ${known.join(', ')}` : '';
  return `is not an annotation infergate reads, so it changes nothing${hint}`;
}
