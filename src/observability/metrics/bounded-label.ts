/**
 * Caps the distinct values a label taken from requests may have, as llm-d does (PRs #1909, #2119): model
 * names come from request bodies and fairness ids from a header, and every distinct value would be a new
 * series forever. Past the cap, new values read `other`; values already admitted keep their own.
 */

/** llm-d's caps: 1000 distinct model names (model_name and target_model_name share one), 1000 fairness ids. */
export const MAX_MODEL_LABEL_VALUES = 1000;
export const MAX_FAIRNESS_LABEL_VALUES = 1000;
export const OVERFLOW_LABEL_VALUE = 'other';

export class BoundedLabel {
  readonly max: number;
  /** Of `max`, how many values requests that were refused before any endpoint served them may take. */
  readonly maxUnverified: number;
  readonly #seen = new Set<string>();
  readonly #pinned = new Set<string>();
  #unverified = 0;

  constructor(max: number) {
    this.max = max;
    this.maxUnverified = Math.floor(max / 2);
  }

  /**
   * `v` when it is pinned, already admitted, or there is room to admit it; else `other`. Once admitted a
   * value always returns itself, so paired calls (running requests up, then down) stay balanced. The empty
   * value (a request refused before its model was read) is never counted against the cap.
   *
   * `unverified`: the value comes from a request refused before scheduling (an unknown model, say), which
   * anyone can send with a new name each time. Such values may take only half the slots, so a flood of made-up
   * names leaves room for the models endpoints really serve (a model added to an allowlist afterwards still
   * gets its own label).
   */
  bound(v: string, unverified = false): string {
    if (v === '' || this.#seen.has(v) || this.#pinned.has(v)) return v;
    if (this.#seen.size >= this.max || (unverified && this.#unverified >= this.maxUnverified)) return OVERFLOW_LABEL_VALUE;
    this.#seen.add(v);
    if (unverified) this.#unverified++;
    return v;
  }

  /**
   * Names configured in an InferenceModelRewrite (exact matches and targets) always keep their own label and
   * take no slot, so a flood of unknown names cannot fold a configured model into `other`. Pins are never
   * removed: a series, once exported, stays meaningful.
   */
  pin(v: string): void {
    if (v !== '') this.#pinned.add(v);
  }

  /** Distinct unpinned values admitted so far. */
  get admitted(): number {
    return this.#seen.size;
  }
}
