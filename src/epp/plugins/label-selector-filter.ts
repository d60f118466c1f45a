/** `label-selector-filter` (llm-d; formerly `by-label-selector`): keeps endpoints whose pod labels match a selector. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { Filter, SchedulingContext } from '../framework/plugin.js';
import type { ParamReader, PluginFactory } from '../framework/registry.js';
import { describeValue } from '../framework/param-reader.js';

export const LABEL_SELECTOR_FILTER_TYPE = 'label-selector-filter';
/** The older name llm-d still registers, deprecated. */
export const BY_LABEL_SELECTOR_TYPE = 'by-label-selector';

export type SelectorOperator = 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
const OPERATORS: readonly SelectorOperator[] = ['In', 'NotIn', 'Exists', 'DoesNotExist'];

export interface LabelSelectorRequirement {
  key: string;
  operator: SelectorOperator;
  values: readonly string[];
}

export interface LabelSelector {
  matchLabels: Readonly<Record<string, string>>;
  matchExpressions: readonly LabelSelectorRequirement[];
}

/** Kubernetes semantics: every matchLabels pair and every expression must hold (AND); an empty selector matches all. */
export function matchesSelector(labels: Readonly<Record<string, string>>, s: LabelSelector): boolean {
  for (const k in s.matchLabels) if (labels[k] !== s.matchLabels[k]) return false;
  for (const e of s.matchExpressions) {
    const v = labels[e.key];
    switch (e.operator) {
      case 'In':
        if (v === undefined || !e.values.includes(v)) return false;
        break;
      case 'NotIn':
        if (v !== undefined && e.values.includes(v)) return false;
        break;
      case 'Exists':
        if (v === undefined) return false;
        break;
      case 'DoesNotExist':
        if (v !== undefined) return false;
        break;
    }
  }
  return true;
}

export class LabelSelectorFilter implements Filter {
  readonly type: string;
  readonly name: string;
  readonly selector: LabelSelector;

  constructor(name: string, selector: LabelSelector, type: string = LABEL_SELECTOR_FILTER_TYPE) {
    this.name = name;
    this.selector = selector;
    this.type = type;
  }

  filter(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    let all = true;
    for (const ep of endpoints) if (!matchesSelector(ep.pod.meta.labels, this.selector)) all = false;
    return all ? endpoints : endpoints.filter((ep) => matchesSelector(ep.pod.meta.labels, this.selector));
  }
}

/** Parameters: a Kubernetes LabelSelector, `matchLabels` and `matchExpressions` ({key, operator, values}). */
export function readLabelSelector(r: ParamReader): LabelSelector {
  const matchLabels = r.stringMap('matchLabels');
  const matchExpressions = r.list('matchExpressions', (raw, path) => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) r.fail(path, `must be a mapping {key, operator, values}, got ${describeValue(raw)}`);
    const { key, operator, values, ...rest } = raw as Record<string, unknown>;
    const extra = Object.keys(rest)[0];
    if (extra !== undefined) r.fail(`${path}.${extra}`, 'unknown field; known fields: key, operator, values');
    if (typeof key !== 'string' || key === '') r.fail(`${path}.key`, `must be a label name, got ${describeValue(key)}`);
    if (!OPERATORS.includes(operator as SelectorOperator)) r.fail(`${path}.operator`, `must be one of ${OPERATORS.join(', ')}, got ${describeValue(operator)}`);
    const list = values ?? [];
    if (!Array.isArray(list) || list.some((v) => typeof v !== 'string')) r.fail(`${path}.values`, `must be a list of strings, got ${describeValue(values)}`);
    const op = operator as SelectorOperator;
    // Kubernetes' own validation: In/NotIn need values, Exists/DoesNotExist take none.
    if ((op === 'In' || op === 'NotIn') && list.length === 0) r.fail(`${path}.values`, `must not be empty for operator ${op}`);
    if ((op === 'Exists' || op === 'DoesNotExist') && list.length > 0) r.fail(`${path}.values`, `must be empty for operator ${op}`);
    return { key, operator: op, values: list as string[] };
  });
  return { matchLabels, matchExpressions };
}

export const labelSelectorFilterFactory: PluginFactory = (name, _p, r) => new LabelSelectorFilter(name, readLabelSelector(r));

export const byLabelSelectorFactory: PluginFactory = (name, _p, r) => {
  r.warn(`type ${BY_LABEL_SELECTOR_TYPE} is deprecated; use ${LABEL_SELECTOR_FILTER_TYPE}`);
  return new LabelSelectorFilter(name, readLabelSelector(r), BY_LABEL_SELECTOR_TYPE);
};
