/** What `/readyz` says of upstream credentials: pods refusing the gateway's API key, and keys that cannot be read. */
import type { Datastore } from '../epp/datastore/datastore.js';
import type { KeyProblem, UpstreamCredentials } from './upstream-credentials.js';

/** A pod that answered 401 or 403 to the gateway's last call on `path`. */
export interface RefusedEndpoint {
  pool: string;
  endpoint: string;
  pod: string;
  /** `/v1/models` (discovery; the endpoint then takes no requests) or `/metrics` (scraping). */
  path: string;
  status: number;
  /** Which key was sent (by its source, never its value) and what to set. */
  message: string;
}

export interface UpstreamAuthReport {
  refused?: RefusedEndpoint[];
  /** Pools whose key cannot be read: their pods get no key (or the one read before). */
  keys?: KeyProblem[];
}

/** Undefined when there is nothing to say, so `/readyz` leaves the key out. An endpoint two pools select shows under each. */
export function upstreamAuthReport(datastore: Datastore, credentials: Pick<UpstreamCredentials, 'problems'>): UpstreamAuthReport | undefined {
  const refused: RefusedEndpoint[] = [];
  for (const view of datastore.pools()) {
    for (const ep of view.endpoints) {
      const at = { pool: view.key, endpoint: ep.address, pod: ep.podKey };
      if (ep.modelsRefused !== 0) refused.push({ ...at, path: '/v1/models', status: ep.modelsRefused, message: ep.modelsError ?? '' });
      if (ep.metricsRefused !== 0) refused.push({ ...at, path: '/metrics', status: ep.metricsRefused, message: ep.metricsError ?? '' });
    }
  }
  const keys = credentials.problems();
  if (refused.length === 0 && keys.length === 0) return undefined;
  return { ...(refused.length > 0 ? { refused } : {}), ...(keys.length > 0 ? { keys } : {}) };
}
