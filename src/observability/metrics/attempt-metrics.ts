/** infergate's own per-pool counts of upstream attempts and failovers, from each request's record. */
import type { Registry } from 'prom-client';
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
  /** Pool keys come from the configuration, never from requests: bounded by the pools configured. */
  readonly #byPool = new Map<string, [ValueSeries, ValueSeries]>();

  /** One request's `attempts` endpoints tried in `pool`. */
  record(pool: string, attempts: number): void {
    if (attempts <= 0) return;
    let s = this.#byPool.get(pool);
    if (!s) this.#byPool.set(pool, (s = [this.attempts.series(pool), this.failovers.series(pool)]));
    s[0].inc(attempts);
    if (attempts > 1) s[1].inc(attempts - 1);
  }

  register(registry: Registry): void {
    register(registry, this.attempts);
    register(registry, this.failovers);
  }
}
