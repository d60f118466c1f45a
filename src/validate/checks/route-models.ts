/**
 * The models HTTPRoutes match on, in the headers body-based routing sets: `X-Gateway-Model-Name` (the body's
 * model) and `X-Gateway-Base-Model-Name` (its base model). A value no one serves never matches; a base model
 * missing from every allowlist is the field report's 404 "fault filter abort" under GIE.
 */
import { ALLOWLIST_LABEL_HINT } from '../../api/allowlist.js';
import type { ValueMatch } from '../../api/http-route.js';
import { BASE_MODEL_NAME_HEADER, MODEL_NAME_HEADER } from '../../bbr/routing-headers.js';
import { anchoredRegex } from '../../api/anchored-regex.js';
import type { Check } from '../check.js';
import { didYouMean } from '../../api/closest-name.js';
import { subjectOf, type Finding } from '../finding.js';
import { listNames, unknownNote } from '../served-models.js';
import type { ValidationContext } from '../validation-context.js';
import { poolLacksModel } from './pool-model-coverage.js';

export const routeModels: Check = {
  name: 'route-models',
  codes: ['model-not-served', 'base-model-not-served', 'base-model-not-allowlisted', 'pool-lacks-model'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const route of ctx.snapshot.routes) {
      route.rules.forEach((rule, i) => {
        rule.matches.forEach((match, j) => {
          const seen = new Set<string>();
          match.headers.forEach((h, k) => {
            const name = h.name.toLowerCase();
            // The Gateway API ignores later matches on a header name already matched (HTTPHeaderMatch).
            if (seen.has(name)) return;
            seen.add(name);
            if (name !== MODEL_NAME_HEADER && name !== BASE_MODEL_NAME_HEADER) return;
            const field = `spec.rules[${i}].matches[${j}].headers[${k}].value`;
            const problem = name === MODEL_NAME_HEADER ? modelProblem(ctx, h) : baseModelProblem(ctx, h);
            if (problem) findings.push({ ...subjectOf(route), field, ...problem });
            // An unserved value was just reported; poolLacksModel stays silent about names it does not know.
            if (h.type !== 'Exact') return;
            rule.backendRefs.forEach((b, n) => {
              if (b.kind !== 'InferencePool' || b.weight === 0) return;
              const lacks = poolLacksModel(ctx, `${b.namespace}/${b.name}`, h.value);
              if (lacks) findings.push({ ...subjectOf(route), field: `spec.rules[${i}].backendRefs[${n}]`, severity: 'error', code: 'pool-lacks-model', ...lacks });
            });
          });
        });
      });
    }
    return findings;
  },
};

type Problem = Pick<Finding, 'severity' | 'code' | 'message' | 'fix'>;

/**
 * The served names a header match accepts: its Exact value if served, or every served name its regex matches.
 * Undefined for a regex that does not compile (reported as invalid-object already).
 */
function accepted(h: ValueMatch, names: Iterable<string>): string[] | undefined {
  if (h.type === 'Exact') return [...names].filter((n) => n === h.value);
  let re: RegExp;
  try {
    re = anchoredRegex(h.value);
  } catch {
    return undefined;
  }
  return [...names].filter((n) => re.test(n));
}

function modelProblem(ctx: ValidationContext, h: ValueMatch): Problem | undefined {
  const { served } = ctx;
  const names = [...served.bases.keys(), ...served.adapters.keys()];
  const found = accepted(h, names);
  if (!found || found.length > 0) return undefined;
  return {
    severity: served.complete ? 'error' : 'warning',
    code: 'model-not-served',
    message: `matches ${describeValue(h)} on X-Gateway-Model-Name, but no allowlist ConfigMap lists it and no model server serves it (served: ${listNames(names)}): requests for it get 404 model_not_found and this rule never matches.${unknownNote(served.unknown, ctx.probed)}`,
    fix:
      h.type === 'Exact'
        ? `Serve "${h.value}": load it on the pool's vLLM servers (--lora-modules ${h.value}=PATH) and list it in data.adapters of its base model's allowlist ConfigMap; or correct the value to a served name${didYouMean(h.value, names)}.`
        : `Correct the regular expression so it matches a served name, or serve a model it matches.`,
  };
}

function baseModelProblem(ctx: ValidationContext, h: ValueMatch): Problem | undefined {
  const { served } = ctx;
  const bases = accepted(h, served.bases.keys());
  if (!bases) return undefined;
  if (bases.length > 0) {
    const missing = bases.filter((b) => !served.allowlisted.has(b));
    if (missing.length === 0) return undefined;
    const strict = ctx.options.strictAllowlist === true;
    const adapters = [...served.adapters].filter(([, byBase]) => missing.some((b) => byBase.has(b))).map(([a]) => a);
    return {
      severity: strict ? 'error' : 'warning',
      code: 'base-model-not-allowlisted',
      message:
        `matches base model ${missing.map((b) => `"${b}"`).join(', ')} on X-Gateway-Base-Model-Name, which no allowlist ConfigMap names; only ${missing.flatMap((b) => served.bases.get(b) ?? []).join(', ')} serve${missing.flatMap((b) => served.bases.get(b) ?? []).length === 1 ? 's' : ''} it. ` +
        `GIE's body-based router${strict ? ' and infergate with --strict-allowlist (set here)' : ' (and infergate with --strict-allowlist)'} set this header only from allowlist ConfigMaps, so there requests for this model${adapters.length > 0 ? ' and its adapters' : ''} never match this rule: 404 "fault filter abort", the field report's failure.` +
        (strict ? '' : " infergate without --strict-allowlist maps them from the servers' GET /v1/models."),
      fix: `Create ${ALLOWLIST_LABEL_HINT}, with data.baseModel: ${missing[0]}${adapters.length > 0 ? ` and data.adapters listing its adapters (${adapters.sort().join(', ')})` : ''}.`,
    };
  }
  const asAdapter = h.type === 'Exact' ? served.adapters.get(h.value) : undefined;
  if (asAdapter) {
    const base = [...asAdapter.keys()];
    return {
      severity: 'error',
      code: 'base-model-not-served',
      message: `matches "${h.value}" on X-Gateway-Base-Model-Name, but that is an adapter of ${base.map((b) => `"${b}"`).join(', ')} (${[...asAdapter.values()].flat().join(', ')}); the gateway sets this header to the base model, so this rule never matches`,
      fix: `Match the base model instead (value: ${base[0]}), or match the adapter on X-Gateway-Model-Name.`,
    };
  }
  return {
    severity: served.complete ? 'error' : 'warning',
    code: 'base-model-not-served',
    message: `matches ${describeValue(h)} on X-Gateway-Base-Model-Name, but no allowlist ConfigMap and no model server has such a base model (base models: ${listNames(served.bases.keys())}): this rule never matches.${unknownNote(served.unknown, ctx.probed)}`,
    fix:
      h.type === 'Exact'
        ? `Use the base model's name exactly as the server's --served-model-name (or --model) gives it${didYouMean(h.value, served.bases.keys())}, or run servers of "${h.value}" and name it in an allowlist ConfigMap.`
        : `Correct the regular expression so it matches a served base model.`,
  };
}

function describeValue(h: ValueMatch): string {
  return h.type === 'Exact' ? `"${h.value}"` : `the regular expression "${h.value}"`;
}
