/**
 * What the request path (handler, external-pick-stage) needs of the running gateway. The Gateway provides it;
 * naming it here lets the request path stand below the Gateway that creates it, with no import back up.
 */
import type { JsonLimits } from '../bbr/json-limits.js';
import type { ExternalPickers } from '../epp/external/external-pickers.js';
import type { Logger } from '../logger.js';
import type { RequestObserver } from '../observability/request-record.js';
import type { AdminPathPolicy } from '../policy/admin-paths.js';
import type { Tenancy } from '../tenancy/tenancy.js';
import type { BodyLimits } from './body-limits.js';
import type { BodyBudget } from './body-budget.js';
import type { ForwardContext } from './forward.js';
import type { GatewayState } from '../plan/plan-request.js';
import type { WorkSlice } from './work-slice.js';
import type { CorsPolicy } from './cors.js';

export interface RequestHost {
  /** The configuration in force; undefined until the first one is. */
  readonly state: GatewayState | undefined;
  /** Set with `state`: forward's view of the gateway under it. */
  readonly forwardContext: ForwardContext | undefined;
  /** Draining: `/readyz` answers 503 so load balancers take this replica out. */
  readonly shuttingDown: boolean;
  /** What `/readyz` adds under `details` (held config changes, ejected endpoints). */
  readiness(): Record<string, unknown>;
  readonly jsonLimits: JsonLimits;
  readonly bodyBudget: BodyBudget;
  readonly bodyLimits: BodyLimits;
  readonly workSlice: WorkSlice;
  readonly adminPaths: AdminPathPolicy;
  readonly externalPickers: ExternalPickers;
  readonly options: RequestHostOptions;
}

/** The gateway's options the request path reads. */
export interface RequestHostOptions {
  readonly log: Logger;
  readonly maxBodyBytes: number;
  readonly observer?: RequestObserver;
  readonly tenancy?: Tenancy;
  /** Who may call from a web page; unset, CORS is off (src/proxy/cors.ts). */
  readonly cors?: CorsPolicy;
  /** Why the gateway is not ready yet, for `/readyz` before the first configuration. */
  readonly notReadyReason?: () => string;
}
