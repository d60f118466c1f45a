/** The upstream side of the gateway in one object: connection pools, each pool's policy and API key, and outlier detection. */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { OutlierDetector, type EjectionEvent } from './outlier-detector.js';
import { UpstreamCredentials, type UpstreamCredentialsOptions } from './upstream-credentials.js';
import { UpstreamPolicies } from './upstream-policies.js';
import type { UpstreamPolicy } from './upstream-policy.js';
import { UpstreamPools } from './upstream-pools.js';

export interface UpstreamOptions {
  /** The `serve` flags: every pool's policy unless its annotations say otherwise. */
  defaults: UpstreamPolicy;
  /** An endpoint failed at the connection level: refresh what is known of it (its `GET /v1/models`). */
  onConnectionFailure?: (ep: Endpoint) => void;
  /** Outlier detection ejected an endpoint: log it (and, later, count it). */
  onEject?: (e: EjectionEvent) => void;
  /** Where the pools' API keys come from (flag, environment, Secrets); none are sent without it. */
  credentials?: UpstreamCredentialsOptions;
}

export class Upstream {
  readonly pools = new UpstreamPools();
  readonly policies: UpstreamPolicies;
  readonly outliers: OutlierDetector;
  /** Each pool's API key towards its pods (src/upstream/upstream-credentials.ts). */
  readonly credentials: UpstreamCredentials;
  readonly onConnectionFailure: ((ep: Endpoint) => void) | undefined;

  constructor(opts: UpstreamOptions) {
    this.policies = new UpstreamPolicies(opts.defaults);
    this.outliers = new OutlierDetector(opts.onEject);
    this.credentials = new UpstreamCredentials(opts.credentials);
    this.onConnectionFailure = opts.onConnectionFailure;
  }

  async close(): Promise<void> {
    this.credentials.close();
    await this.pools.closeAll();
  }
}
