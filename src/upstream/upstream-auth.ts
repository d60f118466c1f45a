/**
 * The pool's API key on requests to its pods, and what a pod's 401 or 403 means. vLLM started with
 * `--api-key` (or VLLM_API_KEY) answers 401 `{"error":"Unauthorized"}` on its `/v1` paths without
 * `Authorization: Bearer <key>`; newer releases guard every route except /health, /ping, /load, /version,
 * /metrics and the docs (vllm/entrypoints/openai/server_utils.py, AuthenticationMiddleware).
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { describeApiKeySource, HOW_TO_SET_A_KEY, type ApiKeySource } from './api-key-source.js';

/** A pool's key as requests carry it. Built once per key read, so nothing is formatted per request. */
export interface PoolCredential {
  readonly pool: string;
  readonly source: ApiKeySource;
  /** `Bearer <key>`; undefined while the key cannot be read. */
  readonly authorization: string | undefined;
  /** `{ authorization }` for discovery and scraping; undefined while the key cannot be read. */
  readonly headers: Readonly<Record<string, string>> | undefined;
  /** Why the key cannot be read, when it cannot. */
  readonly error: string | undefined;
}

/**
 * Puts the pool's key on a request's headers (node's lower-case names): the client's own `Authorization`
 * is replaced. A pool whose key cannot be read sends none, and not the client's either: a pool that names a
 * key wants the gateway to authenticate, and the client's header was meant for the gateway. Without a pool
 * key the headers are left as they are, the client's `Authorization` included.
 */
export function applyPoolCredential(headers: Record<string, string | string[]>, cred: PoolCredential | undefined): void {
  if (cred === undefined) return;
  if (cred.authorization !== undefined) headers.authorization = cred.authorization;
  else delete headers.authorization;
}

/** 401 and 403: the pod wants a key the gateway did not send, or refused the one it sent. */
export function isAuthRefusal(status: number): boolean {
  return status === 401 || status === 403;
}

/**
 * The message for a pod that answered `status` to `GET url`: which key was sent (by its source, never its
 * value) and what to set. `pool` is the InferencePool the endpoint belongs to, when known.
 */
export function refusalMessage(url: string, status: number, pool: string | undefined, cred: PoolCredential | undefined): string {
  const answered = `GET ${url} answered ${status} ${status === 401 ? 'Unauthorized' : 'Forbidden'}`;
  const of = pool !== undefined ? ` of InferencePool ${pool}` : '';
  if (cred === undefined) {
    return `${answered}: the pod requires an API key (vLLM --api-key or VLLM_API_KEY) and the gateway sent none${pool !== undefined ? ` (InferencePool ${pool} names no key)` : ''}; ${HOW_TO_SET_A_KEY}`;
  }
  const from = describeApiKeySource(cred.source);
  if (cred.authorization === undefined) return `${answered}: the API key${of} (${from}) cannot be read, so none was sent: ${cred.error ?? 'unknown error'}`;
  return `${answered}: the pod refused the API key${of} that the gateway sent (${from}); make it the key the pod was started with (vLLM --api-key or VLLM_API_KEY)`;
}

/** What model discovery and metrics scraping ask of the credentials (src/upstream/upstream-credentials.ts). */
export interface EndpointAuth {
  /** Headers to add to a request to `ep`: its pool's key; undefined for none. */
  headersFor(ep: Endpoint): Readonly<Record<string, string>> | undefined;
  /**
   * `ep` answered `status` (401 or 403) to `GET url`: the message saying which key was sent and what to set.
   * The credentials also read their keys again soon: the pod's may have been rotated.
   */
  refused(ep: Endpoint, url: string, status: number): string;
}
