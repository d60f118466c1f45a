/** Applies a pool's InferenceModelRewrite rules: a weighted choice of the model a request is sent as. */
import type { InferenceModelRewrite } from '../api/inference-model-rewrite.js';
import { keyOf } from '../api/object-meta.js';

export interface ModelRewriteResult {
  /** The model the request is sent upstream as. */
  model: string;
  /** `InferenceModelRewrite namespace/name rule i`, for explain and logs. */
  source: string;
  /** The InferenceModelRewrite's name, for metrics (`model_rewrite_name`). */
  name: string;
  /**
   * Set when the rule has more than one target that can be drawn: the chosen target's weight and the rule's
   * total, so explain says the choice is a draw (another request may get another target).
   */
  weight?: { of: number; total: number };
}

/**
 * An Exact rule naming the model wins over a match-all rule (one with no matches), across all of the pool's
 * rewrites; among equals the first of `rewrites` (the snapshot orders them as llm-d does: the oldest object first,
 * then configuration order), and within one object its first rule. Returns undefined when no rule applies.
 */
export function rewriteModel(rewrites: readonly InferenceModelRewrite[] | undefined, model: string, random: () => number = Math.random): ModelRewriteResult | undefined {
  if (!rewrites || rewrites.length === 0) return undefined;
  let fallback: { rw: InferenceModelRewrite; i: number } | undefined;
  for (const rw of rewrites) {
    for (let i = 0; i < rw.rules.length; i++) {
      const rule = rw.rules[i]!;
      if (rule.models.length === 0) fallback ??= { rw, i };
      else if (rule.models.includes(model)) return pick(rw, i, random);
    }
  }
  return fallback ? pick(fallback.rw, fallback.i, random) : undefined;
}

/** A target of rule `i` of `rw`, drawn by weight; undefined when every weight is 0. */
function pick(rw: InferenceModelRewrite, i: number, random: () => number): ModelRewriteResult | undefined {
  const targets = rw.rules[i]!.targets;
  const total = targets.reduce((s, t) => s + t.weight, 0);
  if (total <= 0) return undefined;
  let x = random() * total;
  let chosen = targets[targets.length - 1]!;
  for (const t of targets) {
    if (t.weight > 0 && x < t.weight) {
      chosen = t;
      break;
    }
    x -= t.weight;
  }
  const drawn = targets.filter((t) => t.weight > 0).length > 1 ? { weight: { of: chosen.weight, total } } : {};
  return { model: chosen.modelRewrite, source: `InferenceModelRewrite ${keyOf(rw.meta)} rule ${i}`, name: rw.meta.name, ...drawn };
}
