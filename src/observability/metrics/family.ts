/**
 * A metric family of our own that a prom-client Registry renders: label sets are resolved once into series
 * handles, so recording on the request path is a field update, with no label hashing.
 */
import { validateMetricName, type Metric, type Registry } from 'prom-client';

export type MetricType = 'counter' | 'gauge' | 'histogram';

/**
 * One exposition line's worth, in the shape prom-client's Registry renders (`metricName` for `_bucket`, `_sum`,
 * `_count`). The registry formats `sharedLabels` once per object (a WeakMap), so a series passes the same
 * object on every line and every scrape, and its own `labels` only for what differs (`le`).
 */
export interface Sample {
  value: number;
  labels: Record<string, string | number>;
  sharedLabels?: Record<string, string>;
  metricName?: string;
}

/** `labels` of a line that has none of its own. */
export const NO_LABELS: Readonly<Record<string, string>> = Object.freeze({});

/** What prom-client's Registry asks of a metric at scrape time (its `get()`), and `reset()` for `resetMetrics()`. */
export interface Collectable {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  get(): Promise<{ name: string; help: string; type: MetricType; values: Sample[]; aggregator: 'sum' }>;
  reset(): void;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** llm-d and GIE prefix every help text with the metric's stability level (Kubernetes component-base style). */
export function alpha(help: string): string {
  return `[ALPHA] ${help}`;
}

/**
 * Puts a family on a registry. prom-client's Registry renders any object with a name, a help, a type and
 * `get()`; its own Counter/Histogram hash the label set on every `inc`/`observe` (0.6-1 µs each, about 30
 * per request here), which these families do once per label set instead.
 */
export function register(registry: Registry, family: Collectable): void {
  registry.registerMetric(family as unknown as Metric);
}

export interface FamilyOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
}

/** Checks a family's name and label names as Prometheus defines them; throws naming the bad one. */
export function checkNames(name: string, labelNames: readonly string[], reserved: readonly string[] = []): void {
  if (!validateMetricName(name)) throw new Error(`invalid metric name ${JSON.stringify(name)}`);
  for (const l of labelNames) {
    if (!LABEL_NAME.test(l) || l.startsWith('__') || reserved.includes(l)) throw new Error(`metric ${name}: invalid label name ${JSON.stringify(l)}`);
  }
  if (new Set(labelNames).size !== labelNames.length) throw new Error(`metric ${name}: duplicate label names ${labelNames.join(', ')}`);
}

/**
 * Series by label values. `series(...)` builds a key string, so callers resolve a label set once and keep
 * the handle; the handle's methods are what the request path calls.
 */
export abstract class Family<S> implements Collectable {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: MetricType;
  readonly #series = new Map<string, { values: readonly string[]; labels: Record<string, string>; series: S }>();

  constructor(o: FamilyOptions, reservedLabels: readonly string[] = []) {
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames ?? [];
    checkNames(this.name, this.labelNames, reservedLabels);
  }

  protected abstract newSeries(): S;
  /** Back to zero, for `reset()`: handles callers keep stay valid. */
  protected abstract zero(series: S): void;
  protected abstract samples(labels: Record<string, string>, series: S, out: Sample[]): void;

  /** The series of these label values (in `labelNames` order), created on first use. */
  series(...values: string[]): S {
    if (values.length !== this.labelNames.length) throw new Error(`metric ${this.name} takes ${this.labelNames.length} label value(s) (${this.labelNames.join(', ')}), got ${values.length}`);
    const key = values.join('\u0000');
    let e = this.#series.get(key);
    if (!e) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < values.length; i++) labels[this.labelNames[i]!] = values[i]!;
      e = { values: [...values], labels, series: this.newSeries() };
      this.#series.set(key, e);
    }
    return e.series;
  }

  /** Drops a series. A handle kept by a caller still records, but into nothing exported: drop only what is gone. */
  remove(...values: string[]): void {
    this.#series.delete(values.join('\u0000'));
  }

  /** Every series with its label values (in `labelNames` order), for families derived from this one. */
  forEach(fn: (labelValues: readonly string[], series: S) => void): void {
    for (const e of this.#series.values()) fn(e.values, e.series);
  }

  /** Number of series exported now. */
  get size(): number {
    return this.#series.size;
  }

  /** Every series back to zero (prom-client's `Registry.resetMetrics()`); handles stay valid. */
  reset(): void {
    for (const e of this.#series.values()) this.zero(e.series);
  }

  async get(): Promise<{ name: string; help: string; type: MetricType; values: Sample[]; aggregator: 'sum' }> {
    const values: Sample[] = [];
    for (const { labels, series } of this.#series.values()) this.samples(labels, series, values);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: 'sum' };
  }
}
