/**
 * Where tenants' counters live: this process's memory, or Redis shared by every replica (`--rate-limit-store`).
 * Both count in fixed windows (the minute and the UTC day) and check-and-count in one atomic step.
 */
import type { TenantLimits } from './key-entry.js';
import type { Windows } from './windows.js';

/** Which limit refused a request. */
export type LimitReason = 'requests' | 'tokens' | 'daily_tokens';

/** The counters of a tenant's windows after a take (or, when refused, as they stood). */
export interface Usage {
  readonly requests: number;
  readonly tokens: number;
  readonly dayTokens: number;
}

export interface TakeResult extends Usage {
  /** undefined: admitted and counted; else the first limit that refused it, and nothing was counted. */
  readonly refused: LimitReason | undefined;
}

/**
 * Invariant: `take` either counts the request (one request, `tokens` estimated tokens in the minute and the
 * day) and answers `refused: undefined`, or counts nothing; never a part. A store that cannot answer
 * rejects (Redis down): the caller applies `--rate-limit-store-failure`.
 */
export interface LimitStore {
  take(tenant: string, limits: TenantLimits, tokens: number, w: Windows): TakeResult | Promise<TakeResult>;
  /**
   * Corrects the tokens counted for a request once its usage is known: `delta` (actual minus estimate) is added
   * to the windows now in force; a refund (negative) only to windows still those the request was counted in.
   */
  adjust(tenant: string, delta: number, counted: Windows, now: Windows): void | Promise<void>;
  /**
   * Gives back the request a `take` counted, for one that never reached a model server (flow control refused it,
   * its client left while it waited): only while the minute it was counted in is still the minute in force.
   */
  giveBackRequest(tenant: string, counted: Windows, now: Windows): void | Promise<void>;
  close(): Promise<void>;
}
