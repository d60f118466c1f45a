/** One-line descriptions of HTTPRoute matches, for `explain` output and 404 messages. */
import type { RouteMatch, ValueMatch } from '../api/http-route.js';
import { keyOf } from '../api/object-meta.js';
import type { RouteMatchResult } from './route-request.js';

/**
 * Describes a match as conditions joined by ", ", e.g.
 * `path PathPrefix /v1, method POST, header X-Gateway-Base-Model-Name=google/gemma-2b-it, query v=~[0-9]+`.
 * `=` is an Exact value, `=~` a RegularExpression (matched against the whole value).
 */
export function describeMatch(match: RouteMatch): string {
  const parts = [`path ${match.path.type} ${match.path.value}`];
  if (match.method !== undefined) parts.push(`method ${match.method}`);
  for (const h of match.headers) parts.push(`header ${describeValue(h)}`);
  for (const q of match.queryParams) parts.push(`query ${describeValue(q)}`);
  return parts.join(', ');
}

/**
 * Names a (route, rule, match) for messages: `route default/gemma rule 0`, with the rule's name when it has
 * one and the match index when the rule has several matches: `route default/gemma rule 1 (canary) match 2`.
 */
export function describeRuleRef(ref: Pick<RouteMatchResult, 'route' | 'rule' | 'ruleIndex' | 'matchIndex'>): string {
  const name = ref.rule.name === undefined ? '' : ` (${ref.rule.name})`;
  const match = ref.rule.matches.length > 1 ? ` match ${ref.matchIndex}` : '';
  return `route ${keyOf(ref.route.meta)} rule ${ref.ruleIndex}${name}${match}`;
}

function describeValue(v: ValueMatch): string {
  return `${v.name}${v.type === 'Exact' ? '=' : '=~'}${v.value}`;
}
