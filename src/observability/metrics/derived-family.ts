/**
 * A family rendered from another one at scrape time: GIE's deprecated twins of llm-d's series are the same
 * counts under another name, with fewer labels (summed over the ones dropped) or renamed ones. The request
 * path records each observation once; the twin costs a grouping per scrape.
 */
import { checkNames, NO_LABELS, type Collectable, type MetricType, type Sample } from './family.js';
import { histogramSamples, type HistogramFamily, type HistogramSeries } from './histogram-family.js';
import type { CounterFamily, GaugeFamily, ValueSeries } from './value-family.js';

export interface DerivedOptions {
  name: string;
  help: string;
  labelNames?: readonly string[];
  /**
   * The twin's label values for a source series (in the source's label order), in `labelNames` order; series
   * mapping to the same values are summed. Default: the source's own values (a rename).
   */
  labels?: (source: readonly string[]) => string[];
}

abstract class Derived<S> implements Collectable {
  readonly name: string;
  readonly help: string;
  readonly labelNames: readonly string[];
  abstract readonly type: MetricType;
  protected readonly labelsOf: (source: readonly string[]) => readonly string[];

  constructor(o: DerivedOptions, sourceLabels: readonly string[]) {
    this.name = o.name;
    this.help = o.help;
    this.labelNames = o.labelNames ?? sourceLabels;
    this.labelsOf = o.labels ?? ((v) => v);
    checkNames(this.name, this.labelNames, ['le']);
  }

  reset(): void {}

  protected abstract each(fn: (values: readonly string[], series: S) => void): void;
  protected abstract samples(labels: Record<string, string>, groups: readonly S[], out: Sample[]): void;

  async get(): Promise<{ name: string; help: string; type: MetricType; values: Sample[]; aggregator: 'sum' }> {
    const groups = new Map<string, { values: readonly string[]; series: S[] }>();
    this.each((source, series) => {
      const values = this.labelsOf(source);
      const key = values.join('\u0000');
      const g = groups.get(key);
      if (g) g.series.push(series);
      else groups.set(key, { values, series: [series] });
    });
    const out: Sample[] = [];
    for (const { values, series } of groups.values()) {
      const labels: Record<string, string> = {};
      for (let i = 0; i < this.labelNames.length; i++) labels[this.labelNames[i]!] = values[i] ?? '';
      this.samples(labels, series, out);
    }
    return { name: this.name, help: this.help, type: this.type, values: out, aggregator: 'sum' };
  }
}

/** A counter or gauge twin: the sum of the source series that map to each label set. */
export class DerivedValueFamily extends Derived<ValueSeries> {
  readonly type: 'counter' | 'gauge';
  readonly #source: CounterFamily | GaugeFamily;

  constructor(source: CounterFamily | GaugeFamily, o: DerivedOptions) {
    super(o, source.labelNames);
    this.#source = source;
    this.type = source.type;
  }

  protected each(fn: (values: readonly string[], series: ValueSeries) => void): void {
    this.#source.forEach(fn);
  }

  protected samples(labels: Record<string, string>, groups: readonly ValueSeries[], out: Sample[]): void {
    let v = 0;
    for (const s of groups) v += s.value;
    out.push({ value: v, labels: NO_LABELS, sharedLabels: labels });
  }
}

/** A histogram twin with the source's buckets: bucket-wise sums. */
export class DerivedHistogramFamily extends Derived<HistogramSeries> {
  readonly type = 'histogram' as const;
  readonly #source: HistogramFamily;

  constructor(source: HistogramFamily, o: DerivedOptions) {
    super(o, source.labelNames);
    this.#source = source;
  }

  protected each(fn: (values: readonly string[], series: HistogramSeries) => void): void {
    this.#source.forEach(fn);
  }

  protected samples(labels: Record<string, string>, groups: readonly HistogramSeries[], out: Sample[]): void {
    if (groups.length === 1) {
      const s = groups[0]!;
      return histogramSamples(this.name, this.#source.bucketLabels, labels, s.counts, s.sum, s.count, out);
    }
    const counts = new Float64Array(this.#source.buckets.length + 1);
    let sum = 0;
    let count = 0;
    for (const s of groups) {
      for (let i = 0; i < counts.length; i++) counts[i]! += s.counts[i] as number;
      sum += s.sum;
      count += s.count;
    }
    histogramSamples(this.name, this.#source.bucketLabels, labels, counts, sum, count, out);
  }
}
