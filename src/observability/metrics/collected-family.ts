/**
 * A family computed when Prometheus scrapes, from state the gateway keeps anyway (the datastore, the
 * reflectors): nothing is recorded on the request path, and series of things that are gone simply stop.
 */
import { checkNames, NO_LABELS, type Collectable, type FamilyOptions, type MetricType, type Sample } from './family.js';

/** Adds one series: label values in `labelNames` order. */
export type Emit = (value: number, ...labelValues: string[]) => void;

export interface CollectedOptions extends FamilyOptions {
  /** Gauges, or counters whose totals the state keeps (a reflector's failures). */
  type: Exclude<MetricType, 'histogram'>;
  /** Called at every scrape; emits the current series. Must be cheap and must not throw. */
  collect: (emit: Emit) => void;
}

export class CollectedFamily implements Collectable {
  readonly name: string;
  readonly help: string;
  readonly type: Exclude<MetricType, 'histogram'>;
  readonly labelNames: readonly string[];
  readonly #collect: (emit: Emit) => void;

  constructor(o: CollectedOptions) {
    this.name = o.name;
    this.help = o.help;
    this.type = o.type;
    this.labelNames = o.labelNames ?? [];
    this.#collect = o.collect;
    checkNames(this.name, this.labelNames);
  }

  /** Nothing to reset: the values are the state's. */
  reset(): void {}

  async get(): Promise<{ name: string; help: string; type: MetricType; values: Sample[]; aggregator: 'sum' }> {
    const values: Sample[] = [];
    const names = this.labelNames;
    this.#collect((value, ...lv) => {
      const labels: Record<string, string> = {};
      for (let i = 0; i < names.length; i++) labels[names[i]!] = lv[i] ?? '';
      values.push({ value, labels: NO_LABELS, sharedLabels: labels });
    });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}
