/**
 * A request's label set resolved to its series, once: the capped label values are looked up in nested maps,
 * so the request path builds no strings; each series is created the first time something is recorded on it.
 */
import type { BoundedLabel } from './bounded-label.js';
import type { LlmDErrorCode } from './error-codes.js';
import type { HistogramFamily, HistogramSeries } from './histogram-family.js';
import type { RequestFamilies } from './request-families.js';
import type { ValueSeries } from './value-family.js';

/** llm-d's fairness id when the request carries none (pkg/epp/metadata). */
export const DEFAULT_FAIRNESS_ID = 'default-flow';

/**
 * The llm-d series of one (model_name, target_model_name, fairness_id, priority). GIE's twins are rendered
 * from them, except TTFT and TPOT, whose GIE buckets differ: those come as `[llm-d, GIE]` pairs.
 */
export class RequestSeries {
  readonly #f: RequestFamilies;
  /** model_name, target_model_name, fairness_id, priority */
  readonly #l: [string, string, string, string];
  #errors: Map<LlmDErrorCode, ValueSeries> | undefined;
  #requests?: ValueSeries;
  #running?: ValueSeries;
  #duration?: HistogramSeries;
  #requestSize?: HistogramSeries;
  #responseSize?: HistogramSeries;
  #inputTokens?: HistogramSeries;
  #outputTokens?: HistogramSeries;
  #cachedTokens?: HistogramSeries;
  #ntpot?: HistogramSeries;
  #ttftStreamed?: [HistogramSeries, HistogramSeries];
  #ttftWhole?: [HistogramSeries, HistogramSeries];
  #tpot?: [HistogramSeries, HistogramSeries];
  #itl?: HistogramSeries;

  constructor(families: RequestFamilies, model: string, target: string, fairness: string, priority: string) {
    this.#f = families;
    this.#l = [model, target, fairness, priority];
  }

  get labels(): readonly string[] {
    return this.#l;
  }

  get requests(): ValueSeries {
    return (this.#requests ??= this.#f.requests.series(...this.#l));
  }

  get running(): ValueSeries {
    return (this.#running ??= this.#f.running.series(...this.#l));
  }

  error(code: LlmDErrorCode): ValueSeries {
    this.#errors ??= new Map();
    let s = this.#errors.get(code);
    if (!s) this.#errors.set(code, (s = this.#f.errors.series(...this.#l, code)));
    return s;
  }

  get duration(): HistogramSeries {
    return (this.#duration ??= this.#of(this.#f.duration));
  }

  get requestSize(): HistogramSeries {
    return (this.#requestSize ??= this.#of(this.#f.requestSize));
  }

  get responseSize(): HistogramSeries {
    return (this.#responseSize ??= this.#of(this.#f.responseSize));
  }

  get inputTokens(): HistogramSeries {
    return (this.#inputTokens ??= this.#of(this.#f.inputTokens));
  }

  get outputTokens(): HistogramSeries {
    return (this.#outputTokens ??= this.#of(this.#f.outputTokens));
  }

  get cachedTokens(): HistogramSeries {
    return (this.#cachedTokens ??= this.#of(this.#f.cachedTokens));
  }

  get ntpot(): HistogramSeries {
    return (this.#ntpot ??= this.#of(this.#f.ntpot));
  }

  /** llm-d's TTFT carries `streaming`; GIE's has no such label, so both kinds go to its one series. */
  ttft(streamed: boolean): [HistogramSeries, HistogramSeries] {
    const [m, t] = this.#l;
    if (streamed) return (this.#ttftStreamed ??= [this.#f.ttft.series(...this.#l, 'true'), this.#f.gieTtft.series(m, t)]);
    return (this.#ttftWhole ??= [this.#f.ttft.series(...this.#l, 'false'), this.#f.gieTtft.series(m, t)]);
  }

  get tpot(): [HistogramSeries, HistogramSeries] {
    const [m, t] = this.#l;
    return (this.#tpot ??= [this.#of(this.#f.tpot), this.#f.gieTpot.series(m, t)]);
  }

  get itl(): HistogramSeries {
    return (this.#itl ??= this.#of(this.#f.itl));
  }

  #of(family: HistogramFamily): HistogramSeries {
    return family.series(...this.#l);
  }
}

/** Resolves label sets to RequestSeries. Bounded: keys are the capped values. */
export class RequestSeriesCache {
  readonly #f: RequestFamilies;
  readonly #models: BoundedLabel;
  readonly #fairness: BoundedLabel;
  readonly #byModel = new Map<string, Map<string, Map<string, Map<number, RequestSeries>>>>();

  constructor(families: RequestFamilies, models: BoundedLabel, fairness: BoundedLabel) {
    this.#f = families;
    this.#models = models;
    this.#fairness = fairness;
  }

  /** A model name as the capped `model_name` / `target_model_name` labels carry it. */
  boundModel(model: string): string {
    return this.#models.bound(model);
  }

  /**
   * The series of a request: its model as sent (`''` when none was read), the model sent upstream (the same
   * unless rewritten), its fairness id (`default-flow` when none) and priority. `unverified`: the request was
   * refused before scheduling, so its names may be made up (BoundedLabel.bound).
   */
  of(model: string | undefined, target: string | undefined, fairnessId: string | undefined, priority: number, unverified = false): RequestSeries {
    const m = this.#models.bound(model ?? '', unverified);
    const t = target === undefined || target === model ? m : this.#models.bound(target, unverified);
    const f = this.#fairness.bound(fairnessId ?? DEFAULT_FAIRNESS_ID, unverified);
    let byTarget = this.#byModel.get(m);
    if (!byTarget) this.#byModel.set(m, (byTarget = new Map()));
    let byFairness = byTarget.get(t);
    if (!byFairness) byTarget.set(t, (byFairness = new Map()));
    let byPriority = byFairness.get(f);
    if (!byPriority) byFairness.set(f, (byPriority = new Map()));
    let s = byPriority.get(priority);
    if (!s) byPriority.set(priority, (s = new RequestSeries(this.#f, m, t, f, String(priority))));
    return s;
  }
}
