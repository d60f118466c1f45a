/**
 * InferencePools whose servers run different base models. infergate picks only endpoints that serve the
 * requested model, so this works here; GIE's and llm-d's endpoint picker pick within a pool without looking
 * at the model, which is the field report's unified pool and its 40-60% "model not found".
 */
import type { Check } from '../check.js';
import { subjectOf, type Finding } from '../finding.js';
import { describeServer, type ModelServer } from '../model-servers.js';
import { unknownNote } from '../served-models.js';
import { poolServed } from '../validation-context.js';

export const poolBaseModels: Check = {
  name: 'pool-base-models',
  codes: ['pool-mixed-base-models'],
  run(ctx) {
    const findings: Finding[] = [];
    for (const [key, pool] of ctx.snapshot.pools) {
      const { ready, served } = poolServed(ctx, key);
      const byBase = new Map<string, ModelServer[]>();
      for (const s of ready) {
        const base = s.served?.bases[0];
        if (base !== undefined) byBase.set(base, [...(byBase.get(base) ?? []), s]);
      }
      if (byBase.size < 2) continue;
      const known = ready.length - served.unknown.length;
      const groups = [...byBase].sort(([a], [b]) => (a < b ? -1 : 1));
      const misses = groups.map(([base, list]) => `"${base}" ${Math.round((100 * (known - list.length)) / known)}%`).join(', ');
      findings.push({
        ...subjectOf(pool),
        field: 'spec.selector.matchLabels',
        severity: 'warning',
        code: 'pool-mixed-base-models',
        message:
          `selects servers of ${byBase.size} base models (${groups.map(([base, list]) => `${base}: ${list.map(describeServer).join(', ')}`).join('; ')}). ` +
          `infergate picks only endpoints that serve the requested model, so this pool works with infergate's picker. ` +
          `Under GIE's or llm-d's endpoint picker, which picks within a pool without looking at the model, a request lands on a server without its model this often: ${misses} (the field report's unified pool: 40-60% "model not found").` +
          unknownNote(served.unknown, ctx.probed),
        fix: `If anything other than infergate picks endpoints for this pool, split it into one InferencePool per base model (select on a label such as llm-d.ai/model-name) and route to each by X-Gateway-Base-Model-Name, with an allowlist ConfigMap per base model. If only infergate picks, nothing needs to change.`,
      });
    }
    return findings;
  },
};
