/** InferenceModelRewrite (llm-d.ai/v1alpha2, or GIE's inference.networking.x-k8s.io/v1alpha2): weighted rewrite of the body's model in a pool. */
import type { FieldReader, Raw } from './field-reader.js';
import type { Located } from './object-meta.js';
import { readPoolRef } from './pool-ref.js';

export interface RewriteTarget {
  modelRewrite: string;
  /**
   * Relative weight; defaults to 1 so a single target needs none. 0 (never drawn) for a target without one beside
   * targets with one, as llm-d's router reads such a rule.
   */
  weight: number;
}

export interface RewriteRule {
  /** Exact model names this rule applies to; empty = every model no Exact rule of the pool matches. */
  models: readonly string[];
  /** Empty: the rule matches and the model keeps its name. */
  targets: readonly RewriteTarget[];
}

export interface InferenceModelRewrite extends Located {
  kind: 'InferenceModelRewrite';
  /** `llm-d.ai` or the legacy `inference.networking.x-k8s.io`: where both name rewrites for a pool, llm-d's win. */
  group: string;
  poolKey: string;
  rules: readonly RewriteRule[];
}

const REWRITES_MORE = 'the rule is read without it, so it may rewrite models it was not meant to';

export function readInferenceModelRewrite(r: FieldReader, raw: Record<string, Raw>, base: Located, group: string): InferenceModelRewrite {
  const spec = r.object(raw.spec, 'spec', true) ?? {};
  r.unknownKeys(spec, 'spec', ['poolRef', 'rules']);
  const rules = r.array(spec.rules, 'spec.rules', true).map((rawRule, i): RewriteRule => {
    const at = `spec.rules[${i}]`;
    const o = r.object(rawRule, at) ?? {};
    r.unknownKeys(o, at, ['matches', 'targets'], REWRITES_MORE);
    const models = r.array(o.matches, `${at}.matches`).flatMap((m, j) => {
      const mo = r.object(m, `${at}.matches[${j}]`);
      r.unknownKeys(mo, `${at}.matches[${j}]`, ['model'], REWRITES_MORE);
      const model = r.object(mo?.model, `${at}.matches[${j}].model`, true);
      if (!model) return [];
      r.unknownKeys(model, `${at}.matches[${j}].model`, ['type', 'value'], REWRITES_MORE);
      const type = r.string(model.type, `${at}.matches[${j}].model.type`) ?? 'Exact';
      if (type !== 'Exact') r.fail(`${at}.matches[${j}].model.type`, `only Exact is supported, got ${JSON.stringify(type)}`);
      const value = r.string(model.value, `${at}.matches[${j}].model.value`, true);
      return value ? [value] : [];
    });
    // Optional in the CRD: a rule without targets matches and keeps the model name, as llm-d's router sends it
    // (an Exact rule that exempts a model from a match-all one). Given, the CRD wants at least one.
    const rawTargets = r.array(o.targets, `${at}.targets`);
    if (Array.isArray(o.targets) && rawTargets.length === 0) r.fail(`${at}.targets`, 'must list at least one target; leave targets out for a rule that keeps the model name');
    // The CRD says a weight set on one target must be set on all; llm-d's router then never picks the unweighted ones.
    const mixed = rawTargets.some((t) => isWeighted(t)) && !rawTargets.every((t) => isWeighted(t));
    const targets = rawTargets.flatMap((t, j) => {
      const to = r.object(t, `${at}.targets[${j}]`);
      if (!to) return [];
      r.unknownKeys(to, `${at}.targets[${j}]`, ['modelRewrite', 'weight'], 'the target is read without it, so its requests are rewritten other than written');
      const modelRewrite = r.string(to.modelRewrite, `${at}.targets[${j}].modelRewrite`, true);
      // llm-d's CRD (and GIE's before it) has weight minimum 1: a file must not pass what kubectl apply refuses.
      if (to.weight === 0) r.fail(`${at}.targets[${j}].weight`, 'must be an integer from 1 to 1000000, got 0: the InferenceModelRewrite CRD refuses a weight of 0; remove the target to send it nothing');
      if (mixed && !isWeighted(to)) {
        r.lenient(`${at}.targets[${j}].weight`, "is not set while other targets of the rule set theirs, so this target gets no requests, as llm-d's router reads it (a weight set on one target must be set on all); give it a weight");
        return modelRewrite ? [{ modelRewrite, weight: 0 }] : [];
      }
      const weight = to.weight === 0 ? 1 : r.integer(to.weight, `${at}.targets[${j}].weight`, 1, 1_000_000) ?? 1;
      return modelRewrite ? [{ modelRewrite, weight }] : [];
    });
    return { models, targets };
  });
  return { ...base, kind: 'InferenceModelRewrite', group, poolKey: readPoolRef(r, spec.poolRef, base.meta.namespace), rules };
}

function isWeighted(target: Raw): boolean {
  return target !== null && typeof target === 'object' && (target as Record<string, Raw>).weight !== undefined && (target as Record<string, Raw>).weight !== null;
}
