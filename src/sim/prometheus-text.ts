/** Just enough of the Prometheus text exposition format (0.0.4): counters, gauges and histograms with labels. */

/** Label names to values; rendered in insertion order. */
export type Labels = Readonly<Record<string, string>>;

function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** `{a="1",b="2"}`, or '' when there are no labels. */
export function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

/** Like Python's prometheus_client (which vLLM uses): whole numbers keep a `.0`, infinities are `+Inf`/`-Inf`. */
export function formatValue(n: number): string {
  if (n === Infinity) return '+Inf';
  if (n === -Infinity) return '-Inf';
  if (Number.isNaN(n)) return 'NaN';
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

function header(name: string, help: string, type: 'counter' | 'gauge' | 'histogram'): string {
  return `# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}\n# TYPE ${name} ${type}\n`;
}

/** A gauge whose samples are computed at scrape time. */
export function gaugeText(name: string, help: string, samples: ReadonlyArray<readonly [Labels, number]>): string {
  return header(name, help, 'gauge') + samples.map(([l, v]) => `${name}${formatLabels(l)} ${formatValue(v)}\n`).join('');
}

/** One counter series, its labels formatted once. */
export interface CounterChild {
  inc(by?: number): void;
}

/** One histogram series, its labels formatted once. */
export interface HistogramChild {
  observe(value: number): void;
}

/** A monotonically increasing count per label set. `name` includes the `_total` suffix. */
export class Counter {
  readonly #name: string;
  readonly #help: string;
  readonly #series = new Map<string, number>();

  constructor(name: string, help: string) {
    this.#name = name;
    this.#help = help;
  }

  /** Adds `by` (>= 0); `inc(labels, 0)` makes a series visible before its first event. */
  inc(labels: Labels, by = 1): void {
    if (by < 0) throw new RangeError(`counter ${this.#name} cannot decrease`);
    const key = formatLabels(labels);
    this.#series.set(key, (this.#series.get(key) ?? 0) + by);
  }

  /** One series, made visible now; its `inc` skips formatting the labels, for counters bumped per token. */
  child(labels: Labels): CounterChild {
    const key = formatLabels(labels);
    if (!this.#series.has(key)) this.#series.set(key, 0);
    return {
      inc: (by = 1) => {
        if (by < 0) throw new RangeError(`counter ${this.#name} cannot decrease`);
        this.#series.set(key, (this.#series.get(key) ?? 0) + by);
      },
    };
  }

  render(): string {
    let out = header(this.#name, this.#help, 'counter');
    for (const [key, value] of this.#series) out += `${this.#name}${key} ${formatValue(value)}\n`;
    return out;
  }
}

interface HistogramSeries {
  readonly labels: Labels;
  readonly counts: number[];
  sum: number;
  count: number;
}

/** Observations counted into fixed upper bounds, rendered cumulatively as `_bucket{le}`, `_sum`, `_count`. */
export class Histogram {
  readonly #name: string;
  readonly #help: string;
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  /** `bounds` must be ascending; the `+Inf` bucket is implied. */
  constructor(name: string, help: string, bounds: readonly number[]) {
    this.#name = name;
    this.#help = help;
    this.#bounds = bounds;
  }

  /** Makes a series visible (all zeros) before its first observation, as prometheus_client does. */
  init(labels: Labels): void {
    this.#get(labels);
  }

  observe(labels: Labels, value: number): void {
    this.#observe(this.#get(labels), value);
  }

  /** One series, made visible now; its `observe` skips formatting the labels, for per-token observations. */
  child(labels: Labels): HistogramChild {
    const s = this.#get(labels);
    return { observe: (value) => this.#observe(s, value) };
  }

  render(): string {
    let out = header(this.#name, this.#help, 'histogram');
    for (const s of this.#series.values()) {
      let cumulative = 0;
      for (const [i, bound] of this.#bounds.entries()) {
        cumulative += s.counts[i] ?? 0;
        out += `${this.#name}_bucket${formatLabels({ ...s.labels, le: formatValue(bound) })} ${formatValue(cumulative)}\n`;
      }
      out += `${this.#name}_bucket${formatLabels({ ...s.labels, le: '+Inf' })} ${formatValue(s.count)}\n`;
      out += `${this.#name}_sum${formatLabels(s.labels)} ${formatValue(s.sum)}\n`;
      out += `${this.#name}_count${formatLabels(s.labels)} ${formatValue(s.count)}\n`;
    }
    return out;
  }

  #observe(s: HistogramSeries, value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    if (i < bounds.length) s.counts[i] = (s.counts[i] ?? 0) + 1;
    s.sum += value;
    s.count++;
  }

  #get(labels: Labels): HistogramSeries {
    const key = formatLabels(labels);
    let s = this.#series.get(key);
    if (s === undefined) {
      s = { labels, counts: this.#bounds.map(() => 0), sum: 0, count: 0 };
      this.#series.set(key, s);
    }
    return s;
  }
}
