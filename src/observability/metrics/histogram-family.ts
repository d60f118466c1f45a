/** Histogram families with fixed bucket bounds: observing is a binary search and two additions. */
import { Family, NO_LABELS, type FamilyOptions, type Sample } from './family.js';

/** One label set's counts. `counts[i]` counts observations in bucket i alone (not cumulative); the last is +Inf. */
export class HistogramSeries {
  readonly #bounds: readonly number[];
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Non-finite values are ignored (a clock fault must not turn the sum into NaN for good). */
  observe(v: number): void {
    if (!Number.isFinite(v)) return;
    const b = this.#bounds;
    let lo = 0;
    let hi = b.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (v <= (b[mid] as number)) hi = mid;
      else lo = mid + 1;
    }
    this.counts[lo]!++;
    this.sum += v;
    this.count++;
  }
}

export interface HistogramOptions extends FamilyOptions {
  /** Upper bounds, strictly increasing; +Inf is implied. */
  buckets: readonly number[];
}

export class HistogramFamily extends Family<HistogramSeries> {
  readonly type = 'histogram' as const;
  readonly buckets: readonly number[];
  /** `{le}` of each bound, then `+Inf`: the same objects on every line and scrape. */
  readonly bucketLabels: readonly Readonly<Record<string, string | number>>[];

  constructor(o: HistogramOptions) {
    super(o, ['le']);
    for (let i = 1; i < o.buckets.length; i++) {
      if (!((o.buckets[i] as number) > (o.buckets[i - 1] as number))) throw new Error(`histogram ${o.name}: buckets must increase, got ${o.buckets.join(', ')}`);
    }
    this.buckets = Object.freeze([...o.buckets]);
    this.bucketLabels = Object.freeze([...this.buckets.map((le) => Object.freeze({ le })), Object.freeze({ le: '+Inf' })]);
  }

  protected newSeries(): HistogramSeries {
    return new HistogramSeries(this.buckets);
  }

  protected zero(s: HistogramSeries): void {
    s.counts.fill(0);
    s.sum = 0;
    s.count = 0;
  }

  protected samples(labels: Record<string, string>, s: HistogramSeries, out: Sample[]): void {
    histogramSamples(this.name, this.bucketLabels, labels, s.counts, s.sum, s.count, out);
  }
}

/** The lines of one histogram series: cumulative buckets, +Inf, sum, count. `counts` are per bucket, +Inf last. */
export function histogramSamples(
  name: string,
  bucketLabels: readonly Readonly<Record<string, string | number>>[],
  labels: Record<string, string>,
  counts: ArrayLike<number>,
  sum: number,
  count: number,
  out: Sample[],
): void {
  const bucket = `${name}_bucket`;
  let acc = 0;
  for (let i = 0; i < bucketLabels.length - 1; i++) {
    acc += counts[i] as number;
    out.push({ value: acc, labels: bucketLabels[i] as Record<string, string | number>, sharedLabels: labels, metricName: bucket });
  }
  out.push({ value: count, labels: bucketLabels[bucketLabels.length - 1] as Record<string, string | number>, sharedLabels: labels, metricName: bucket });
  out.push({ value: sum, labels: NO_LABELS, sharedLabels: labels, metricName: `${name}_sum` });
  out.push({ value: count, labels: NO_LABELS, sharedLabels: labels, metricName: `${name}_count` });
}
