/**
 * HTTPRoute matches that can never be chosen: a match of higher precedence, on the same hostnames, accepts every
 * request they would. Precedence is the gateway's own (src/route/precedence.ts), read from the compiled route
 * table the server uses. `serve` matches every route it serves in that one table, whatever Gateways their
 * parentRefs name (all of them without --gateway-name), so a match on another parent shadows too; the message
 * says so, since behind Gateways that each route their own (extproc) it does not.
 */
import type { ParentRef } from '../../api/http-route.js';
import { keyOf } from '../../api/object-meta.js';
import { describeMatch, describeRuleRef } from '../../route/describe.js';
import type { RouteEntry } from '../../route/route-table.js';
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';
import { matchCovers } from './match-covers.js';

export const routeShadowing: Check = {
  name: 'route-shadowing',
  codes: ['route-shadowed'],
  run(ctx) {
    const { hosts } = ctx.snapshot.routeTable;
    // An entry sits in one host bucket per hostname (or in `any`); it is dead only if shadowed in each.
    const buckets = [...hosts.exact.values(), ...hosts.wildcard.values(), hosts.any];
    const seen = new Map<RouteEntry, number>();
    const shadowed = new Map<RouteEntry, { by: RouteEntry; count: number }>();
    for (const list of buckets) {
      list.forEach((b, j) => {
        seen.set(b, (seen.get(b) ?? 0) + 1);
        const earlier = list.slice(0, j).filter((a) => a !== b && matchCovers(a, b));
        // One on the same parents first: its finding holds behind any Gateway, not only under serve.
        const by = earlier.find((a) => parentsCover(a.route.parentRefs, b.route.parentRefs)) ?? earlier[0];
        if (!by) return;
        const prior = shadowed.get(b);
        shadowed.set(b, { by: prior?.by ?? by, count: (prior?.count ?? 0) + 1 });
      });
    }
    const findings: Finding[] = [];
    for (const [b, { by, count }] of shadowed) {
      if (count < (seen.get(b) ?? 0)) continue;
      const same = by.route === b.route;
      const sameParents = parentsCover(by.route.parentRefs, b.route.parentRefs);
      const served = ctx.options.gatewayName === undefined ? 'infergate serve without --gateway-name serves every HTTPRoute in one table, whatever Gateway its parentRefs name' : `infergate serve --gateway-name ${ctx.options.gatewayName} serves both in one table`;
      findings.push({
        ...subjectOf(b.route),
        field: `spec.rules[${b.ruleIndex}].matches[${b.matchIndex}]`,
        severity: 'warning',
        code: 'route-shadowed',
        message: sameParents
          ? `${describeRuleRef(b)} (${describeMatch(b.match)}) can never match: ${describeRuleRef(by)} (${describeMatch(by.match)}) takes precedence and accepts every request it would${same ? '' : `, on the same parent${b.route.hostnames.length > 0 ? ' and hostnames' : ''}`}. ${precedenceReason(by, b)}`
          : `${describeRuleRef(b)} (${describeMatch(b.match)}) can never match under infergate serve: ${describeRuleRef(by)} (${describeMatch(by.match)}) takes precedence and accepts every request it would${b.route.hostnames.length > 0 ? ' on the same hostnames' : ''}. ${precedenceReason(by, b)} They attach to different parents (${describeParents(by.route.parentRefs)}; ${describeParents(b.route.parentRefs)}), but ${served}. Behind Gateways that each route their own (infergate extproc), each matches on its own Gateway.`,
        fix: sameParents
          ? `Make the match more specific than ${describeRuleRef(by)} (a longer path, another header such as X-Gateway-Base-Model-Name), make that one narrower, or delete the dead rule.`
          : `If one infergate serve takes both, give the routes different hostnames or make one match more specific (another header such as X-Gateway-Base-Model-Name); if each Gateway has its own infergate, run each with serve --gateway-name NAME, and validate with --gateway-name NAME.`,
      });
    }
    return findings;
  },
};

/** Why `a` wins, in the Gateway API's words. */
function precedenceReason(a: RouteEntry, b: RouteEntry): string {
  if (a.pathRank !== b.pathRank || a.pathLength !== b.pathLength) return 'It wins on path (Exact over PathPrefix, longer prefix first; infergate tries regular expressions last).';
  if (a.hasMethod !== b.hasMethod) return 'It wins by matching the method.';
  if (a.headerCount !== b.headerCount) return 'It wins with more header matches.';
  if (a.queryCount !== b.queryCount) return 'It wins with more query-parameter matches.';
  if (a.route === b.route) return 'It comes first in the route.';
  if (a.created !== b.created) return `Their matches tie, and ${keyOf(a.route.meta)} is older (creationTimestamp).`;
  return `Their matches tie, and ${keyOf(a.route.meta)} sorts first by namespace/name.`;
}

/** Every parent `b` attaches to, `a` attaches to as well (a ref without sectionName covers every section). */
function parentsCover(a: readonly ParentRef[], b: readonly ParentRef[]): boolean {
  if (b.length === 0) return a.length === 0;
  return b.every((pb) => a.some((pa) => pa.group === pb.group && pa.kind === pb.kind && pa.namespace === pb.namespace && pa.name === pb.name && (pa.sectionName === undefined || pa.sectionName === pb.sectionName)));
}

/** `Gateway team-a/gw` for each parent, or `no parentRefs`. */
function describeParents(refs: readonly ParentRef[]): string {
  if (refs.length === 0) return 'no parentRefs';
  return refs.map((p) => `${p.kind} ${p.namespace}/${p.name}${p.sectionName !== undefined ? ` (${p.sectionName})` : ''}`).join(', ');
}
