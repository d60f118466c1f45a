/**
 * `context-length-aware` (llm-d): a scorer, and optionally a filter, that sends each request to the pods whose
 * `llm-d.ai/context-length-range` label (`"min-max"` tokens) holds its length: short prompts to small pods, long
 * ones to the pods set up for them.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter, SchedulingContext, Scorer } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';
import { ScoreBuffer } from '../framework/score-buffer.js';

export const CONTEXT_LENGTH_AWARE_TYPE = 'context-length-aware';
export const DEFAULT_CONTEXT_LENGTH_LABEL = 'llm-d.ai/context-length-range';

/** Characters a token, as llm-d's tokenizer-free `estimate` backend packs them (and every estimate here). */
const CHARS_PER_TOKEN = 4;
/** In-range scores are above it and out-of-range ones below, so a pod whose range holds the request always wins. */
const FALLBACK_CEILING = 0.3;
/** A pod without the label: neither preferred nor avoided. */
const UNLABELLED_SCORE = 0.5;

export interface ContextRange {
  readonly min: number;
  readonly max: number;
}

/** `"0-2048"` (spaces around each bound allowed) -> {min, max}; undefined when malformed or min > max. */
export function parseContextRange(label: string): ContextRange | undefined {
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(label);
  if (!m) return undefined;
  const min = Number(m[1]);
  const max = Number(m[2]);
  return min <= max ? { min, max } : undefined;
}

/** The request's length in tokens: its prompt text at 4 characters a token. */
export function contextLengthOf(ctx: SchedulingContext): number {
  return Math.ceil(ctx.request.prompt.length / CHARS_PER_TOKEN);
}

/**
 * Inside the range: in (0.3, 1], higher for a narrow range (a specialist over a generalist) and for more room left
 * above the request: 0.3 + 0.7 x (0.7 x 1 / (1 + width / 10000) + 0.3 x (max - n) / width); a range of one value
 * is 1. Outside: 0.3 / (1 + distance / 1000), so the nearest range is preferred when none holds the request.
 */
export function rangeScore(n: number, r: ContextRange): number {
  if (n >= r.min && n <= r.max) {
    const width = r.max - r.min;
    if (width === 0) return 1;
    const raw = 0.7 / (1 + width / 10_000) + (0.3 * (r.max - n)) / width;
    return FALLBACK_CEILING + raw * (1 - FALLBACK_CEILING);
  }
  const distance = n > r.max ? n - r.max : r.min - n;
  return FALLBACK_CEILING / (1 + distance / 1000);
}

export class ContextLengthAware implements Scorer, Filter {
  readonly type = CONTEXT_LENGTH_AWARE_TYPE;
  readonly name: string;
  readonly label: string;
  readonly enableFiltering: boolean;
  readonly #scores = new ScoreBuffer();

  constructor(name: string = CONTEXT_LENGTH_AWARE_TYPE, label = DEFAULT_CONTEXT_LENGTH_LABEL, enableFiltering = false) {
    this.name = name;
    this.label = label;
    this.enableFiltering = enableFiltering;
  }

  /**
   * With `enableFiltering`: keeps the pods without the label (they take any length) and those whose range holds the
   * request; a malformed label drops its pod. Without: keeps everything.
   */
  filter(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    if (!this.enableFiltering) return endpoints;
    const n = contextLengthOf(ctx);
    const keeps = (ep: Endpoint): boolean => {
      const v = ep.pod.meta.labels[this.label];
      if (v === undefined) return true;
      const r = parseContextRange(v);
      return r !== undefined && n >= r.min && n <= r.max;
    };
    return endpoints.every(keeps) ? endpoints : endpoints.filter(keeps);
  }

  whyEmpty(ctx: SchedulingContext): string {
    return `the request's ~${contextLengthOf(ctx)} tokens (4 characters a token) are in no candidate's ${this.label} range, and every candidate has the label; give a pod a range that holds it, or set enableFiltering: false to score only`;
  }

  /** Unlabelled 0.5, malformed label 0, else `rangeScore`. */
  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const out = this.#scores.zeros(endpoints.length);
    const n = contextLengthOf(ctx);
    for (let i = 0; i < endpoints.length; i++) {
      const v = (endpoints[i] as Endpoint).pod.meta.labels[this.label];
      if (v === undefined) {
        out[i] = UNLABELLED_SCORE;
        continue;
      }
      const r = parseContextRange(v);
      out[i] = r ? rangeScore(n, r) : 0;
    }
    return out;
  }
}

/** Parameters, as llm-d's: `label` (a non-empty label key, default llm-d.ai/context-length-range), `enableFiltering` (false). */
export const contextLengthAwareFactory: PluginFactory = (name, _p, r) => {
  const label = r.string('label', DEFAULT_CONTEXT_LENGTH_LABEL);
  if (label.trim() === '') r.fail('label', `must name the pod label holding each pod's "min-max" token range, e.g. ${DEFAULT_CONTEXT_LENGTH_LABEL}`);
  return new ContextLengthAware(name, label, r.boolean('enableFiltering', false));
};
