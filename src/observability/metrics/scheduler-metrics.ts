/**
 * The scheduler's families, llm-d's and GIE's: end-to-end scheduling time, attempts by outcome and endpoint,
 * and each plugin's time per extension point. A SchedulingTimer each pool's Scheduler calls synchronously.
 */
import type { Registry } from 'prom-client';
import type { Endpoint } from '../../epp/datastore/endpoint.js';
import type { Plugin, SchedulingContext } from '../../epp/framework/plugin.js';
import type { ExtensionPoint, SchedulingTimer } from '../../epp/framework/scheduling-timer.js';
import type { BoundedLabel } from './bounded-label.js';
import * as B from './buckets.js';
import { alpha, register } from './family.js';
import { DerivedHistogramFamily, DerivedValueFamily } from './derived-family.js';
import { HistogramFamily, type HistogramSeries } from './histogram-family.js';
import { LLMD } from './request-families.js';
import { CounterFamily, type ValueSeries } from './value-family.js';

const GIE = 'inference_extension_';
const PLUGIN = ['extension_point', 'plugin_type', 'plugin_name'];
const deprecated = (use: string, help: string): string => alpha(`[Deprecated: Use ${LLMD}${use}] ${help}`);

export class SchedulerMetrics implements SchedulingTimer {
  readonly e2e = new HistogramFamily({ name: `${LLMD}scheduler_e2e_duration_seconds`, help: alpha('End-to-end scheduling latency distribution in seconds.'), buckets: B.SCHEDULER });
  readonly gieE2e = new DerivedHistogramFamily(this.e2e, { name: `${GIE}scheduler_e2e_duration_seconds`, help: deprecated('scheduler_e2e_duration_seconds', 'End-to-end scheduling latency distribution in seconds.') });
  readonly attempts = new CounterFamily({ name: `${LLMD}scheduler_attempts_total`, help: alpha('Total number of scheduling attempts.'), labelNames: ['status', 'target_model_name', 'endpoint_name', 'namespace', 'port'] });
  readonly gieAttempts = new DerivedValueFamily(this.attempts, {
    name: `${GIE}scheduler_attempts_total`,
    help: deprecated('scheduler_attempts_total', 'Total number of scheduling attempts.'),
    labelNames: ['status', 'target_model_name', 'pod_name', 'namespace', 'port'],
  });
  readonly plugins = new HistogramFamily({
    name: `${LLMD}plugin_duration_seconds`,
    help: alpha('Plugin processing latency distribution in seconds for each extension point, plugin type and plugin name.'),
    labelNames: PLUGIN,
    buckets: B.SCHEDULER,
  });
  readonly giePlugins = new DerivedHistogramFamily(this.plugins, {
    name: `${GIE}plugin_duration_seconds`,
    help: deprecated('plugin_duration_seconds', 'Plugin processing latency distribution in seconds for each extension point, plugin type and plugin name.'),
  });
  readonly #models: BoundedLabel;
  readonly #endpoints: BoundedLabel;
  readonly #e2e: HistogramSeries;
  /** Successes by endpoint then target model; failures by target model. */
  readonly #success = new WeakMap<Endpoint, Map<string, ValueSeries>>();
  readonly #failure = new Map<string, ValueSeries>();

  /** `models`: the request families' model cap (target_model_name shares it); `endpoints`: the endpoint name cap. */
  constructor(models: BoundedLabel, endpoints: BoundedLabel) {
    this.#models = models;
    this.#endpoints = endpoints;
    this.#e2e = this.e2e.series();
  }

  pluginTimer(extensionPoint: ExtensionPoint, plugin: Plugin): HistogramSeries {
    return this.plugins.series(extensionPoint, plugin.type, plugin.name);
  }

  scheduled(ctx: SchedulingContext, picked: Endpoint | undefined, seconds: number): void {
    this.#e2e.observe(seconds);
    const model = this.#models.bound(ctx.request.model ?? '');
    let s: ValueSeries | undefined;
    if (!picked) {
      s = this.#failure.get(model);
      if (!s) this.#failure.set(model, (s = this.attempts.series('failure', model, '', '', '')));
    } else {
      let byModel = this.#success.get(picked);
      if (!byModel) this.#success.set(picked, (byModel = new Map()));
      s = byModel.get(model);
      if (!s) {
        const name = this.#endpoints.bound(picked.pod.meta.name);
        const ns = picked.pod.meta.namespace;
        const port = String(picked.port);
        s = this.attempts.series('success', model, name, ns, port);
        byModel.set(model, s);
      }
    }
    s.inc();
  }

  register(registry: Registry): void {
    for (const f of [this.e2e, this.gieE2e, this.attempts, this.gieAttempts, this.plugins, this.giePlugins]) register(registry, f);
  }
}
