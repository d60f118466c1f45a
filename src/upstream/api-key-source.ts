/**
 * Where a pool's upstream API key comes from (the key vLLM's `--api-key` makes its pods expect): a file, a
 * Kubernetes Secret, or the `serve` flag / environment variable that covers every pool. Never the key itself.
 */
import { isAbsolute } from 'node:path';
import type { ConfigIssue } from '../api/config-issue.js';
import type { InferencePool } from '../api/inference-pool.js';
import { ANNOTATION_PREFIX } from './setting.js';

/** A file on the gateway's own filesystem holding the key (a mounted Secret, typically). */
export const API_KEY_FILE_ANNOTATION = `${ANNOTATION_PREFIX}upstream-api-key-file`;
/** `NAME` or `NAME/KEY`: a Secret in the pool's namespace, read from the API server (`--kube` only). */
export const API_KEY_SECRET_ANNOTATION = `${ANNOTATION_PREFIX}upstream-api-key-secret`;
/** The flag naming the key file of every pool without an annotation. */
export const API_KEY_FILE_FLAG = '--upstream-api-key-file';
/** The environment variable holding the key of every pool without an annotation (the flag wins over it). */
export const API_KEY_ENV = 'INFERGATE_UPSTREAM_API_KEY';

export type ApiKeySource =
  | { readonly kind: 'file'; readonly path: string; readonly origin: string }
  | { readonly kind: 'secret'; readonly namespace: string; readonly name: string; readonly key: string | undefined; readonly origin: string }
  /** The key itself, from the environment: `origin` names the variable, and only the origin is ever shown. */
  | { readonly kind: 'value'; readonly value: string; readonly origin: string };

/** What to set, in one line, for messages that find a pod refusing the gateway's requests. */
export const HOW_TO_SET_A_KEY = `set the pool's annotation ${API_KEY_FILE_ANNOTATION} (a file holding the key) or ${API_KEY_SECRET_ANNOTATION} (a Secret NAME or NAME/KEY, with --kube), or ${API_KEY_FILE_FLAG} / ${API_KEY_ENV} for every pool`;

/** `file /etc/keys/gemma (annotation infergate.io/upstream-api-key-file)`: where the key comes from, never what it is. */
export function describeApiKeySource(s: ApiKeySource): string {
  if (s.kind === 'file') return `file ${s.path} (${s.origin})`;
  if (s.kind === 'secret') return `Secret ${s.namespace}/${s.name}${s.key !== undefined ? ` key ${s.key}` : ''} (${s.origin})`;
  return s.origin;
}

/** Two sources name the same key when they read the same place (the env value compared too: a restart changes it). */
export function sameApiKeySource(a: ApiKeySource | undefined, b: ApiKeySource | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.kind === 'file' && b.kind === 'file') return a.path === b.path;
  if (a.kind === 'secret' && b.kind === 'secret') return a.namespace === b.namespace && a.name === b.name && a.key === b.key;
  return a.kind === 'value' && b.kind === 'value' && a.value === b.value;
}

/** The flag and the variable (the flag wins): the source of every pool that names none; undefined when neither is set. */
export function defaultApiKeySource(flagFile: string | undefined, env: NodeJS.ProcessEnv = process.env): ApiKeySource | undefined {
  if (flagFile !== undefined) return { kind: 'file', path: flagFile, origin: API_KEY_FILE_FLAG };
  const value = env[API_KEY_ENV];
  return value !== undefined && value.trim() !== '' ? { kind: 'value', value, origin: `environment variable ${API_KEY_ENV}` } : undefined;
}

export interface PoolApiKeyResult {
  /** The pool's source: its annotation's, else `fallback`; undefined when neither names a key. */
  source: ApiKeySource | undefined;
  /** Annotations whose values cannot be used, each naming the field; the pool then takes `fallback`. */
  issues: ConfigIssue[];
  /** Annotations that look like ours but are not (a typo would otherwise leave the pool without its key, silently). */
  warnings: string[];
}

/**
 * An `infergate.io/` annotation that looks like a key setting but is none: warned about here, in key words
 * (validate's api-key-annotation-unknown), rather than with every other unknown annotation.
 */
export function looksLikeApiKeyAnnotation(name: string): boolean {
  return name.startsWith(ANNOTATION_PREFIX) && /api-?key|secret|credential|token/i.test(name) && name !== API_KEY_FILE_ANNOTATION && name !== API_KEY_SECRET_ANNOTATION;
}

// A Secret's name is a DNS subdomain; its data keys are [-._a-zA-Z0-9]+ (Kubernetes' own rules).
const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/** The pool's key source from its annotations, else `fallback`; never throws. */
export function poolApiKeySource(pool: InferencePool, fallback: ApiKeySource | undefined): PoolApiKeyResult {
  const annotations = pool.meta.annotations;
  const issues: ConfigIssue[] = [];
  const issue = (name: string, message: string): void => {
    issues.push({ location: pool.source, field: `metadata.annotations.${name}`, message });
  };
  const file = annotations[API_KEY_FILE_ANNOTATION];
  const secret = annotations[API_KEY_SECRET_ANNOTATION];
  let source: ApiKeySource | undefined;
  if (file !== undefined && secret !== undefined) {
    issue(API_KEY_SECRET_ANNOTATION, `names a Secret while ${API_KEY_FILE_ANNOTATION} names a file; keep one of the two`);
  } else if (file !== undefined) {
    const path = file.trim();
    if (isAbsolute(path)) source = { kind: 'file', path, origin: `annotation ${API_KEY_FILE_ANNOTATION}` };
    else issue(API_KEY_FILE_ANNOTATION, `must be an absolute path to a file holding the key (a mounted Secret, e.g. /var/run/secrets/vllm/api-key), got ${JSON.stringify(file)}`);
  } else if (secret !== undefined) {
    const [name = '', key, ...rest] = secret.trim().split('/');
    if (rest.length === 0 && SECRET_NAME.test(name) && name.length <= 253 && (key === undefined || SECRET_KEY.test(key))) {
      source = { kind: 'secret', namespace: pool.meta.namespace, name, key, origin: `annotation ${API_KEY_SECRET_ANNOTATION}` };
    } else issue(API_KEY_SECRET_ANNOTATION, `must be a Secret name in the pool's namespace, optionally followed by /KEY (e.g. "vllm-api-key" or "vllm-api-key/token"), got ${JSON.stringify(secret)}`);
  }
  const warnings = Object.keys(annotations)
    .filter(looksLikeApiKeyAnnotation)
    .map((k) => `InferencePool ${pool.meta.namespace}/${pool.meta.name}: annotation ${k} is not one infergate reads, so the pool's pods get no key from it; the upstream key annotations are ${API_KEY_FILE_ANNOTATION}, ${API_KEY_SECRET_ANNOTATION}`);
  return { source: source ?? fallback, issues, warnings };
}
