/**
 * `request-attribute-reporter` (llm-d): a number computed from a response's `usage` by a CEL expression (its
 * tokens, a cost), handed to the data plane as dynamic metadata on the ext_proc picker's last answer, where Envoy
 * can read it (a token-based rate limit, billing, a log field).
 */
import { Environment } from '@marcbachmann/cel-js';
import type { ParamReader } from '../framework/param-reader.js';
import { describeValue } from '../framework/param-reader.js';
import type { ReportedAttribute, UsageObject, UsageReporter } from '../framework/plugin.js';
import type { PluginFactory } from '../framework/registry.js';

export const REQUEST_ATTRIBUTE_REPORTER_TYPE = 'request-attribute-reporter';
/** llm-d's default metadata namespace: the one the EPP's destination goes in. */
export const DEFAULT_REPORT_NAMESPACE = 'envoy.lb';

type Program = (vars: { usage: UsageObject }) => unknown;

/**
 * The usage every expression is tried on at load: each field present. An expression that fails on it (a typo, an
 * int where llm-d's numbers are doubles: `usage.prompt_tokens * 2`) fails on every response, so the config is
 * refused with CEL's message instead of each response logging it.
 */
const SAMPLE_USAGE: UsageObject = { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5, prompt_tokens_details: { cached_tokens: 1 } };

/**
 * The value of the expression over `usage`, as llm-d reads it: numbers are doubles (llm-d hands CEL the usage as a
 * protobuf Struct), the result an int or a double, truncated to an integer; 0 is not reported. With `condition`,
 * only when it is true.
 */
export class RequestAttributeReporter implements UsageReporter {
  readonly type = REQUEST_ATTRIBUTE_REPORTER_TYPE;
  readonly name: string;
  readonly namespace: string;
  readonly key: string;
  readonly #expression: Program;
  readonly #condition: Program | undefined;

  constructor(name: string, attr: { namespace: string; name: string; expression: Program; condition?: Program | undefined }) {
    this.name = name;
    this.namespace = attr.namespace;
    this.key = attr.name;
    this.#expression = attr.expression;
    this.#condition = attr.condition;
  }

  report(usage: Readonly<UsageObject>): ReportedAttribute | undefined {
    const vars = { usage: usage as UsageObject };
    if (this.#condition !== undefined && this.#condition(vars) !== true) return undefined;
    const v = this.#expression(vars);
    const n = typeof v === 'bigint' ? Number(v) : typeof v === 'number' ? Math.trunc(v) : NaN;
    if (Number.isNaN(n)) throw new Error(`the expression gave ${describeValue(v)}, not a number`);
    return n === 0 ? undefined : { namespace: this.namespace, name: this.key, value: n };
  }
}

/** Compiles `source` over `usage`, tried on SAMPLE_USAGE; `want` checks the sample's result. */
function compile(r: ParamReader, field: string, source: string, want: (v: unknown) => string | undefined): Program {
  const env = new Environment().registerVariable('usage', 'map');
  let program: Program;
  try {
    program = env.parse(source) as unknown as Program;
  } catch (e) {
    return r.fail(field, `is not CEL: ${firstLine(e)}`);
  }
  let sample: unknown;
  try {
    sample = program({ usage: SAMPLE_USAGE });
  } catch (e) {
    return r.fail(field, `fails on a usage with every field (${JSON.stringify(SAMPLE_USAGE)}): ${firstLine(e)}; usage's numbers are doubles, as in llm-d (write 2.0, not 2)`);
  }
  const wrong = want(sample);
  if (wrong !== undefined) r.fail(field, wrong);
  return program;
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0] ?? '';
}

/**
 * Parameters, by llm-d's names: `attributes`, exactly one entry (as llm-d requires), with `key.name` (required),
 * `key.namespace` (default `envoy.lb`), `expression` (CEL over `usage`, required, a number) and `condition`
 * (CEL, a bool).
 */
export const requestAttributeReporterFactory: PluginFactory = (name, _p, r) => {
  const list = r.list('attributes', (v, path) => ({ v, path }));
  if (list.length !== 1) r.fail('attributes', `must have exactly one entry (llm-d's rule), got ${list.length}`);
  const { v, path } = list[0]!;
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return r.fail(path, `must be a mapping with key and expression, got ${describeValue(v)}`);
  const o = v as Record<string, unknown>;
  const unknown = Object.keys(o).find((k) => !['key', 'expression', 'condition'].includes(k));
  if (unknown !== undefined) r.fail(`${path}.${unknown}`, 'unknown field; an attribute has key, expression and condition');
  const key = o.key;
  if (typeof key !== 'object' || key === null || Array.isArray(key)) return r.fail(`${path}.key`, `must be a mapping with name (and namespace), got ${describeValue(key)}`);
  const k = key as Record<string, unknown>;
  const badKey = Object.keys(k).find((x) => x !== 'name' && x !== 'namespace');
  if (badKey !== undefined) r.fail(`${path}.key.${badKey}`, 'unknown field; a key has name and namespace');
  if (typeof k.name !== 'string' || k.name === '') r.fail(`${path}.key.name`, `must be a non-empty string, got ${describeValue(k.name)}`);
  if (k.namespace !== undefined && typeof k.namespace !== 'string') r.fail(`${path}.key.namespace`, `must be a string, got ${describeValue(k.namespace)}`);
  if (typeof o.expression !== 'string' || o.expression.trim() === '') r.fail(`${path}.expression`, `must be a CEL expression, got ${describeValue(o.expression)}`);
  if (o.condition !== undefined && o.condition !== '' && typeof o.condition !== 'string') r.fail(`${path}.condition`, `must be a CEL expression, got ${describeValue(o.condition)}`);
  const expression = compile(r, `${path}.expression`, o.expression as string, (s) => (typeof s === 'number' || typeof s === 'bigint' ? undefined : `must give a number, gave ${describeValue(s)} on a usage with every field`));
  const condition = typeof o.condition === 'string' && o.condition.trim() !== '' ? compile(r, `${path}.condition`, o.condition, (s) => (typeof s === 'boolean' ? undefined : `must give true or false, gave ${describeValue(s)}`)) : undefined;
  return new RequestAttributeReporter(name, { namespace: (k.namespace as string | undefined) || DEFAULT_REPORT_NAMESPACE, name: k.name as string, expression, condition });
};
