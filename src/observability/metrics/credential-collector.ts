/**
 * infergate's series for upstream credentials, read at scrape time: pods answering 401 or 403 to the
 * gateway's discovery or scrapes, and pools whose API key cannot be read. Never a key: labels name the
 * pool, endpoint, pod and path only.
 */
import type { Registry } from 'prom-client';
import type { Datastore } from '../../epp/datastore/datastore.js';
import type { PoolCredential } from '../../upstream/upstream-auth.js';
import { CollectedFamily } from './collected-family.js';
import { register } from './family.js';

export interface CredentialCollectorSources {
  datastore: Datastore;
  /** The pools naming a key (src/upstream/upstream-credentials.ts). */
  credentials?: { pools(): Iterable<PoolCredential> };
}

export class CredentialCollector {
  readonly families: CollectedFamily[];

  constructor(s: CredentialCollectorSources) {
    this.families = [
      new CollectedFamily({
        type: 'gauge',
        name: 'infergate_endpoint_auth_refused',
        help: "Whether the endpoint's last answer on path (/v1/models: discovery; /metrics: scraping) was 401 or 403 (1): the pod wants an API key the gateway does not send, or refused the one it sent. An endpoint refusing /v1/models takes no requests. Set the pool's infergate.io/upstream-api-key-file or -secret annotation, or --upstream-api-key-file.",
        labelNames: ['pool', 'endpoint', 'pod', 'path'],
        collect: (emit) => {
          for (const view of s.datastore.pools()) {
            for (const ep of view.endpoints) {
              emit(ep.modelsRefused !== 0 ? 1 : 0, view.key, ep.address, ep.podKey, '/v1/models');
              emit(ep.metricsRefused !== 0 ? 1 : 0, view.key, ep.address, ep.podKey, '/metrics');
            }
          }
        },
      }),
      new CollectedFamily({
        type: 'gauge',
        name: 'infergate_pool_upstream_api_key_unreadable',
        help: "Whether the API key the pool names (annotation, --upstream-api-key-file or INFERGATE_UPSTREAM_API_KEY) cannot be read now (1); 0 when it is read. Absent for pools that name no key. /readyz says why.",
        labelNames: ['pool'],
        collect: (emit) => {
          for (const c of s.credentials?.pools() ?? []) emit(c.error !== undefined ? 1 : 0, c.pool);
        },
      }),
    ];
  }

  register(registry: Registry): void {
    for (const f of this.families) register(registry, f);
  }
}
