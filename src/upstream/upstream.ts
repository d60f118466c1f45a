/** The upstream side of the gateway in one object: connection pools, each pool's policy, and outlier detection. */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import { OutlierDetector, type EjectionEvent } from './outlier-detector.js';
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
}

export class Upstream {
  readonly pools = new UpstreamPools();
  readonly policies: UpstreamPolicies;
  readonly outliers: OutlierDetector;
  readonly onConnectionFailure: ((ep: Endpoint) => void) | undefined;

  constructor(opts: UpstreamOptions) {
    this.policies = new UpstreamPolicies(opts.defaults);
    this.outliers = new OutlierDetector(opts.onEject);
    this.onConnectionFailure = opts.onConnectionFailure;
  }

  async close(): Promise<void> {
    await this.pools.closeAll();
  }
}
