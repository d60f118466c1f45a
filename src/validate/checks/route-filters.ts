/** HTTPRoute filters: `serve` applies none, so a rule that has some sends requests on other than written. */
import { IGNORED_FILTERS_FIX, ignoredFiltersText } from '../../route/ignored-filters.js';
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';

export const routeFilters: Check = {
  name: 'route-filters',
  codes: ['route-filter-ignored'],
  supersedes: [/^HTTPRoute \S+ rule \d+ has (a filter|\d+ filters) \(/],
  run(ctx) {
    const findings: Finding[] = [];
    for (const route of ctx.snapshot.routes) {
      route.rules.forEach((rule, i) => {
        const filters = rule.filters;
        if (!filters || filters.length === 0) return;
        findings.push({
          ...subjectOf(route),
          // The first filter's place: the rest are named in the message.
          field: `spec.rules[${i}].${filters[0]!.field}`,
          severity: 'warning',
          code: 'route-filter-ignored',
          message: ignoredFiltersText(filters),
          fix: IGNORED_FILTERS_FIX,
        });
      });
    }
    return findings;
  },
};
