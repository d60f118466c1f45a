/** Metric selectors as llm-d writes them in flags and engineConfigs: `name` or `name{label="value",other=value}`. */
import { METRIC_NAME, type Labels, type Sample } from './prometheus-parser.js';

/**
 * A sample name plus label equalities. A series matches when it has every listed label with that value;
 * other labels (model_name, engine) are ignored.
 */
export interface MetricSpec {
  readonly name: string;
  readonly labels: Labels;
}

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/**
 * Parses a selector. As llm-d does, label values may be quoted or not (`{request_type=waiting}`), since
 * unquoted values are what people type in a flag. Only `=` matchers exist. Throws with the reason.
 */
export function parseMetricSpec(spec: string): MetricSpec {
  const s = spec.trim();
  const open = s.indexOf('{');
  const name = (open < 0 ? s : s.slice(0, open)).trim();
  const fail = (why: string): never => {
    throw new Error(`invalid metric spec ${JSON.stringify(spec)}: ${why}; expected name or name{label="value",...}`);
  };
  if (!METRIC_NAME.test(name)) fail(name === '' ? 'empty metric name' : `${JSON.stringify(name)} is not a metric name`);
  const labels: Record<string, string> = {};
  if (open < 0) return { name, labels };
  if (!s.endsWith('}')) fail('the label block must end the spec with }');
  let i = open + 1;
  const end = s.length - 1;
  while (i < end) {
    const eq = s.indexOf('=', i);
    if (eq < 0 || eq >= end) fail(`expected label=value at ${JSON.stringify(s.slice(i, end))}`);
    if (s[eq - 1] === '!' || s[eq + 1] === '~' || s[eq + 1] === '=') fail('only = matchers are supported');
    const label = s.slice(i, eq).trim();
    if (!LABEL_NAME.test(label)) fail(`${JSON.stringify(label)} is not a label name`);
    let j = eq + 1;
    while (s[j] === ' ') j++;
    let value: string;
    if (s[j] === '"') {
      let k = j + 1;
      value = '';
      while (k < end && s[k] !== '"') {
        if (s[k] === '\\' && k + 1 < end) k++;
        value += s[k];
        k++;
      }
      if (k >= end) fail(`unterminated quoted value for ${label}`);
      j = k + 1;
    } else {
      const stop = s.indexOf(',', j);
      const k = stop < 0 || stop > end ? end : stop;
      value = s.slice(j, k).trim();
      j = k;
    }
    if (value === '') fail(`empty value for label ${label}`);
    if (Object.hasOwn(labels, label)) fail(`label ${label} given twice`);
    labels[label] = value;
    while (s[j] === ' ') j++;
    if (j < end && s[j] !== ',') fail(`expected , after ${label}`);
    i = j + 1;
  }
  return { name, labels };
}

/** Writes a spec back in its canonical form, for messages. */
export function formatMetricSpec(spec: MetricSpec): string {
  const pairs = Object.entries(spec.labels).map(([k, v]) => `${k}="${v}"`);
  return pairs.length === 0 ? spec.name : `${spec.name}{${pairs.join(',')}}`;
}

/** The series of `samples` whose labels include every label of the spec. */
export function matchingSamples(spec: MetricSpec, samples: readonly Sample[] | undefined): readonly Sample[] {
  if (!samples) return [];
  const wanted = Object.entries(spec.labels);
  if (wanted.length === 0) return samples;
  return samples.filter((s) => wanted.every(([k, v]) => s.labels[k] === v));
}
