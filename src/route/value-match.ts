/** Header and query-parameter matching (Exact, RegularExpression), compiled once per configuration. */
import type { ValueMatch } from '../api/http-route.js';
import { anchoredRegexOrNothing } from '../api/anchored-regex.js';

/** One header or query-parameter condition ready for the hot path. */
export interface CompiledValueMatch {
  /** The name to look up: lower-cased for headers, as written for query parameters. */
  readonly name: string;
  readonly spec: ValueMatch;
  /** True when the request's value satisfies the condition; a missing value never does. */
  test(value: string | undefined): boolean;
}

/**
 * Compiles `matches`, keeping only the first condition for each name: the Gateway API says later entries
 * with an equivalent name MUST be ignored (HTTPHeaderMatch / HTTPQueryParamMatch). Header names compare
 * case-insensitively, query-parameter names exactly.
 */
export function compileValueMatches(matches: readonly ValueMatch[], caseInsensitiveNames: boolean): CompiledValueMatch[] {
  const seen = new Set<string>();
  const out: CompiledValueMatch[] = [];
  for (const spec of matches) {
    const name = caseInsensitiveNames ? spec.name.toLowerCase() : spec.name;
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, spec, test: compileValueTest(spec) });
  }
  return out;
}

function compileValueTest(spec: ValueMatch): (value: string | undefined) => boolean {
  if (spec.type === 'Exact') {
    const want = spec.value;
    return (value) => value === want;
  }
  const re = anchoredRegexOrNothing(spec.value);
  return (value) => value !== undefined && re.test(value);
}
