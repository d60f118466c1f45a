/** infergate's own per-pool counts of upstream attempts and failovers, from each request's record. */
import type { Registry } from 'prom-client';
import type { UpstreamAttempt } from '../request-record.js';
import { register } from './family.js';
import { CounterFamily, type ValueSeries } from './value-family.js';

export class AttemptMetrics {
  readonly attempts = new CounterFamily({
    name: 'infergate_upstream_attempts_total',
    help: 'Requests sent to an endpoint of the InferencePool (namespace/name), failover attempts included.',
    labelNames: ['pool'],
  });
  readonly failovers = new CounterFamily({
    name: 'infergate_upstream_failovers_total',
    help: 'Attempts beyond the first: an endpoint failed before answering and the request went to another endpoint of the pool.',
    labelNames: ['pool'],
  });
  /**
   * llm-d's `error_code` counts every answer of a model server outside 2xx as `ModelServerError`, a pod's 400 for
   * a client's bad parameter included: this family tells those from the pod's own failures (5xx), for alerts.
   */
  readonly responses = new CounterFamily({
    name: 'infergate_upstream_responses_total',
    help: "Answers endpoints of the InferencePool (namespace/name) gave, by HTTP status code: tells a pod's 4xx (a client's bad request, which llm_d_epp_request_error_total counts as ModelServerError too) from its 5xx.",
    labelNames: ['pool', 'code'],
  });
  /** Pool keys come from the configuration, never from requests: bounded by the pools configured. */
  readonly #byPool = new Map<string, [ValueSeries, ValueSeries]>();
  /** Codes are HTTP statuses (100-599, else `other`): at most 501 per pool. */
  readonly #responsesByPool = new Map<string, Map<number, ValueSeries>>();

  /** One request's `attempts` endpoints tried in `pool`. */
  record(pool: string, attempts: number): void {
    if (attempts <= 0) return;
    let s = this.#byPool.get(pool);
    if (!s) this.#byPool.set(pool, (s = [this.attempts.series(pool), this.failovers.series(pool)]));
    s[0].inc(attempts);
    if (attempts > 1) s[1].inc(attempts - 1);
  }

  /** The statuses of one request's attempts in `pool` that an endpoint answered (failures before an answer have none). */
  answered(pool: string, attempts: readonly UpstreamAttempt[]): void {
    for (const a of attempts) {
      if (a.status === undefined) continue;
      let byCode = this.#responsesByPool.get(pool);
      if (!byCode) this.#responsesByPool.set(pool, (byCode = new Map()));
      const code = a.status >= 100 && a.status <= 599 ? a.status : 0;
      let s = byCode.get(code);
      if (!s) byCode.set(code, (s = this.responses.series(pool, code === 0 ? 'other' : String(code))));
      s.inc();
    }
  }

  register(registry: Registry): void {
    register(registry, this.attempts);
    register(registry, this.failovers);
    register(registry, this.responses);
  }
}
