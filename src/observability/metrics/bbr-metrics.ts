/** GIE's body-based router families (`bbr_*`, pkg/bbr/metrics v1.5): what BBR made of each request body. */
import type { Registry } from 'prom-client';
import { alpha, register } from './family.js';
import { buildInfo } from './info-metrics.js';
import { CounterFamily, GaugeFamily, type ValueSeries } from './value-family.js';

/** Why BBR could not read the body's field: absent, or present but empty (or not a string). */
export type BodyFieldProblem = 'not_found' | 'empty';

export class BbrMetrics {
  readonly info = new GaugeFamily({ name: 'bbr_info', help: alpha('General information of the current build of BBR.'), labelNames: ['commit', 'build_ref'] });
  readonly success = new CounterFamily({ name: 'bbr_success_total', help: alpha('Count of time the request was processed successfully.') });
  readonly notFound = new CounterFamily({ name: 'bbr_body_field_not_found_total', help: alpha("Count of times a field wasn't found in a request body."), labelNames: ['field'] });
  readonly empty = new CounterFamily({ name: 'bbr_body_field_empty_total', help: alpha('Count of times a field was found in a request body but was empty.'), labelNames: ['field'] });
  readonly #success: ValueSeries;
  readonly #modelNotFound: ValueSeries;
  readonly #modelEmpty: ValueSeries;

  constructor() {
    const b = buildInfo();
    this.info.series(b.commit, b.buildRef).set(1);
    this.#success = this.success.series();
    this.#modelNotFound = this.notFound.series('model');
    this.#modelEmpty = this.empty.series('model');
  }

  /** BBR read the body's `model`. */
  succeeded(): void {
    this.#success.inc();
  }

  /** BBR refused the body for its `model` field (the only field infergate's BBR reads). */
  modelField(problem: BodyFieldProblem): void {
    (problem === 'empty' ? this.#modelEmpty : this.#modelNotFound).inc();
  }

  register(registry: Registry): void {
    for (const f of [this.info, this.success, this.notFound, this.empty]) register(registry, f);
  }
}
