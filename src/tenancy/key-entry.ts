/** One entry of the keys file (or of a labelled Secret): a key's hash, the tenant it names, its models, limits and priority. */
import type { ModelAccess } from './model-access.js';
import type { Tenant } from './tenant.js';

/** A tenant's limits; an unset one is not enforced. Windows are fixed: the minute and the UTC day. */
export interface TenantLimits {
  readonly requestsPerMinute?: number;
  readonly tokensPerMinute?: number;
  /** The daily token quota, reset at 00:00 UTC. */
  readonly tokensPerDay?: number;
}

export interface KeyEntry {
  readonly tenant: Tenant;
  /** `sha256:<hex>` of the key. */
  readonly keyHash: string;
  readonly models: ModelAccess;
  readonly limits: TenantLimits;
  /** Whether the client's own `x-llm-d-inference-objective` header is honoured (default false: the key decides). */
  readonly allowPriorityHeader: boolean;
  /**
   * Whether the key may call the model server admin paths `--allow-admin-paths` lets through (default false):
   * the gateway-wide flag says which paths go on at all, this says whose requests they take.
   */
  readonly allowAdminPaths: boolean;
}
