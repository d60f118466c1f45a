/** The adapter -> base model table built from every BBR allowlist ConfigMap (GIE's semantics). */
import type { Allowlist } from '../api/allowlist.js';
import type { ConfigIssue } from '../api/config-issue.js';
import { keyOf } from '../api/object-meta.js';

/** Where a name comes from, for `explain` and error messages: `ConfigMap default/gemma-allowlist`. */
export type Origin = string;

export interface AllowlistTable {
  /** Base model -> the ConfigMaps naming it (several may: their adapters are unioned). */
  readonly bases: ReadonlyMap<string, readonly Origin[]>;
  /** Adapter -> its base model and the ConfigMap that declares it. */
  readonly adapters: ReadonlyMap<string, { base: string; origin: Origin }>;
  /**
   * Adapter -> the claims of ConfigMaps that give it different base models (`"gemma" in ConfigMap default/a`),
   * sorted: such an adapter is left out of `adapters`, and a request for it is told why.
   */
  readonly conflicts?: ReadonlyMap<string, readonly string[]>;
}

/**
 * Builds the table. Names must be unique across ConfigMaps (REFERENCE §1): an adapter claimed by two bases,
 * or a name that is both a base and an adapter, is a configuration error naming both ConfigMaps. Such an adapter
 * is left out of the table whatever the order of the ConfigMaps: a live source (Kubernetes) that goes on with the
 * issues as warnings must not map it to whichever base this replica happened to list first, which another replica
 * (or this one after a restart, listing by name) would map otherwise.
 */
export function buildAllowlistTable(allowlists: readonly Allowlist[]): { table: AllowlistTable; issues: ConfigIssue[] } {
  const bases = new Map<string, Origin[]>();
  const adapters = new Map<string, { base: string; origin: Origin }>();
  const issues: ConfigIssue[] = [];
  /** Adapters claimed by more than one base: left out (see above). */
  const conflicting = new Set<string>();
  for (const a of allowlists) {
    if (!a.baseModel) continue; // already reported by the reader: baseModel is required
    const origin = `ConfigMap ${keyOf(a.meta)}`;
    const list = bases.get(a.baseModel) ?? [];
    list.push(origin);
    bases.set(a.baseModel, list);
  }
  for (const a of allowlists) {
    if (!a.baseModel) continue;
    const origin = `ConfigMap ${keyOf(a.meta)}`;
    a.adapters.forEach((name, i) => {
      const field = `data.adapters[${i}]`;
      const asBase = bases.get(name);
      if (asBase) {
        issues.push({ location: a.source, field, message: `"${name}" is an adapter here but a base model in ${asBase.join(', ')}; names must be unique across allowlist ConfigMaps` });
        return;
      }
      const prior = adapters.get(name);
      if (prior && prior.base !== a.baseModel) {
        issues.push({ location: a.source, field, message: `adapter "${name}" maps to base "${a.baseModel}" here but to "${prior.base}" in ${prior.origin}; an adapter has exactly one base model` });
        conflicting.add(name);
        return;
      }
      if (!prior) adapters.set(name, { base: a.baseModel, origin });
    });
  }
  for (const name of conflicting) adapters.delete(name);
  return { table: { bases, adapters, conflicts: claimsOn(conflicting, allowlists) }, issues };
}

/** Each of `names` -> every ConfigMap's claim on it (`"gemma" in ConfigMap default/a`), sorted. */
function claimsOn(names: ReadonlySet<string>, allowlists: readonly Allowlist[]): Map<string, string[]> {
  const claims = new Map<string, Set<string>>();
  if (names.size === 0) return new Map();
  for (const a of allowlists) {
    if (!a.baseModel) continue;
    for (const name of a.adapters) if (names.has(name)) claims.set(name, (claims.get(name) ?? new Set()).add(`"${a.baseModel}" in ConfigMap ${keyOf(a.meta)}`));
  }
  return new Map([...claims].map(([name, set]) => [name, [...set].sort()]));
}
