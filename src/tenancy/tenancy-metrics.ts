/**
 * Per-tenant series: requests admitted, tokens used (from the responses' `usage`), rejections by reason. The
 * `tenant` label is the key entry's name, never a key or a hash, capped like llm-d's fairness_id (past the
 * cap, `other`); a request with no valid key is counted under tenant "".
 */
import type { Registry } from 'prom-client';
import { BoundedLabel, MAX_FAIRNESS_LABEL_VALUES } from '../observability/metrics/bounded-label.js';
import { register } from '../observability/metrics/family.js';
import { CounterFamily, type ValueSeries } from '../observability/metrics/value-family.js';

/** Why a request was refused: the 401/403 codes, the limit that refused it, or the store being unreachable (fail-closed). */
export type RejectionReason = 'invalid_api_key' | 'model_not_allowed' | 'admin_path_blocked' | 'requests' | 'tokens' | 'daily_tokens' | 'store_unavailable';

export class TenancyMetrics {
  readonly requests = new CounterFamily({ name: 'infergate_tenant_requests_total', help: 'Requests admitted per tenant (API key entry name) with --api-keys.', labelNames: ['tenant'] });
  readonly tokens = new CounterFamily({ name: 'infergate_tenant_tokens_total', help: "Tokens used per tenant, from the responses' usage: type prompt or completion.", labelNames: ['tenant', 'type'] });
  readonly rejections = new CounterFamily({
    name: 'infergate_tenant_rejections_total',
    help: 'Requests refused per tenant and reason: invalid_api_key (401), model_not_allowed or admin_path_blocked (403), requests, tokens or daily_tokens (429), store_unavailable (503, fail-closed).',
    labelNames: ['tenant', 'reason'],
  });
  readonly storeErrors = new CounterFamily({ name: 'infergate_rate_limit_store_errors_total', help: 'Rate-limit store calls that failed (Redis unreachable or too slow); --rate-limit-store-failure says what requests got.' });
  readonly #tenant = new BoundedLabel(MAX_FAIRNESS_LABEL_VALUES);
  /** Handles by raw tenant name: resolved once per tenant, not per request. */
  readonly #handles = new Map<string, { requests: ValueSeries; prompt: ValueSeries; completion: ValueSeries }>();

  register(registry: Registry): void {
    for (const f of [this.requests, this.tokens, this.rejections, this.storeErrors]) register(registry, f);
  }

  admitted(tenant: string): void {
    this.#of(tenant).requests.inc();
  }

  used(tenant: string, prompt: number, completion: number): void {
    const h = this.#of(tenant);
    h.prompt.inc(prompt);
    h.completion.inc(completion);
  }

  rejected(tenant: string, reason: RejectionReason): void {
    this.rejections.series(this.#tenant.bound(tenant), reason).inc();
  }

  #of(tenant: string): { requests: ValueSeries; prompt: ValueSeries; completion: ValueSeries } {
    let h = this.#handles.get(tenant);
    if (h === undefined) {
      const t = this.#tenant.bound(tenant);
      h = { requests: this.requests.series(t), prompt: this.tokens.series(t, 'prompt'), completion: this.tokens.series(t, 'completion') };
      this.#handles.set(tenant, h);
    }
    return h;
  }
}
