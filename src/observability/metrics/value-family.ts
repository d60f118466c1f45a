/** Counter and gauge families: one number per label set, updated through a handle resolved once. */
import { Family, NO_LABELS, type Sample } from './family.js';

/** A counter's or a gauge's one series. */
export class ValueSeries {
  value = 0;

  inc(n = 1): void {
    this.value += n;
  }

  /** Gauges only: counters never go down. */
  dec(n = 1): void {
    this.value -= n;
  }

  set(v: number): void {
    this.value = v;
  }
}

abstract class ValueFamily extends Family<ValueSeries> {
  protected newSeries(): ValueSeries {
    return new ValueSeries();
  }

  protected zero(s: ValueSeries): void {
    s.value = 0;
  }

  protected samples(labels: Record<string, string>, s: ValueSeries, out: Sample[]): void {
    out.push({ value: s.value, labels: NO_LABELS, sharedLabels: labels });
  }
}

/** Invariant: only ever increases (callers use `inc` with n >= 0). Its name ends in `_total`. */
export class CounterFamily extends ValueFamily {
  readonly type = 'counter' as const;
}

export class GaugeFamily extends ValueFamily {
  readonly type = 'gauge' as const;
}
