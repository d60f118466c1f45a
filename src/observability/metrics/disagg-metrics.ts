/**
 * llm-d's disaggregation decisions: `llm_d_epp_disagg_decision_total` (disagg-profile-handler) and
 * `llm_d_epp_pd_decision_total` (the deprecated pd-profile-handler), with their `llm_d_inference_scheduler_*` twins.
 * One count per schedule, by the stages the request went through.
 */
import type { Registry } from 'prom-client';
import type { Scheduler } from '../../epp/framework/scheduler.js';
import { DisaggProfileHandler, PD_PROFILE_HANDLER_TYPE, type DisaggDecision } from '../../epp/plugins/disagg/disagg-profile-handler.js';
import type { BoundedLabel } from './bounded-label.js';
import { DerivedValueFamily } from './derived-family.js';
import { alpha, register } from './family.js';
import { LLMD } from './request-families.js';
import { CounterFamily, type ValueSeries } from './value-family.js';

const LEGACY = 'llm_d_inference_scheduler_';
const LABELS = ['plugin_name', 'plugin_type', 'model_name', 'decision_type'];
const LEGACY_LABELS = ['model_name', 'decision_type'];

export class DisaggMetrics {
  readonly disagg = new CounterFamily({ name: `${LLMD}disagg_decision_total`, help: alpha('Total number of disaggregation routing decisions made'), labelNames: LABELS });
  readonly legacyDisagg = new DerivedValueFamily(this.disagg, {
    name: `${LEGACY}disagg_decision_total`,
    help: alpha(`[Deprecated: Use ${LLMD}disagg_decision_total] Total number of disaggregation routing decisions made`),
    labelNames: LEGACY_LABELS,
    labels: (v) => [v[2] ?? '', v[3] ?? ''],
  });
  readonly pd = new CounterFamily({ name: `${LLMD}pd_decision_total`, help: alpha('Total number of P/D disaggregation decisions made'), labelNames: LABELS });
  readonly legacyPd = new DerivedValueFamily(this.pd, {
    name: `${LEGACY}pd_decision_total`,
    help: alpha(`[Deprecated: Use ${LLMD}pd_decision_total] Total number of P/D disaggregation decisions made`),
    labelNames: LEGACY_LABELS,
    labels: (v) => [v[2] ?? '', v[3] ?? ''],
  });
  readonly #models: BoundedLabel;
  /** Per handler instance (one per pool's scheduler), model and decision -> its series, labels resolved once. */
  readonly #series = new WeakMap<DisaggProfileHandler, Map<string, ValueSeries>>();

  /** `models`: the request families' model cap (model_name shares it). */
  constructor(models: BoundedLabel) {
    this.#models = models;
  }

  /** Counts the decisions of `scheduler`'s profile handler when it disaggregates (called for every scheduler built). */
  instrument(scheduler: Scheduler): void {
    const h = scheduler.config.handler;
    if (h instanceof DisaggProfileHandler) h.decisionObserver = this.observe;
  }

  /** A DisaggDecisionObserver. As llm-d, a request without a model counts as `unknown`. */
  readonly observe = (handler: DisaggProfileHandler, model: string | undefined, decision: DisaggDecision): void => {
    const m = model === undefined || model === '' ? 'unknown' : this.#models.bound(model);
    let byKey = this.#series.get(handler);
    if (byKey === undefined) this.#series.set(handler, (byKey = new Map()));
    const key = `${m}\u0000${decision}`;
    let s = byKey.get(key);
    if (s === undefined) {
      // The deprecated handler counts in llm-d's pd family, the current one in the disagg family.
      const family = handler.type === PD_PROFILE_HANDLER_TYPE ? this.pd : this.disagg;
      byKey.set(key, (s = family.series(handler.name, handler.type, m, decision)));
    }
    s.inc();
  };

  register(registry: Registry): void {
    for (const f of [this.disagg, this.legacyDisagg, this.pd, this.legacyPd]) register(registry, f);
  }
}
