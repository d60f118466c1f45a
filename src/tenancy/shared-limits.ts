/**
 * Keys of one tenant share its counters (key rotation puts an old and a new key side by side), so they must share
 * its limits: with two, a request would be judged against whichever limit its key carries, on counts the other
 * key's requests made too, and the tenant's real limit would depend on the key a client happens to send.
 */
import type { KeyEntry, TenantLimits } from './key-entry.js';

const LIMITS: readonly (keyof TenantLimits)[] = ['requestsPerMinute', 'tokensPerMinute', 'tokensPerDay'];

/** One problem per tenant and limit its entries disagree on; `where(i)` names entry i in the message. */
export function sharedLimitProblems(entries: readonly KeyEntry[], where: (i: number) => string): string[] {
  const first = new Map<string, number>();
  const problems: string[] = [];
  const told = new Set<string>();
  entries.forEach((e, i) => {
    const name = e.tenant.name;
    const j = first.get(name);
    if (j === undefined) {
      first.set(name, i);
      return;
    }
    const a = entries[j]!.limits;
    for (const f of LIMITS) {
      if (a[f] === e.limits[f] || told.has(`${name}\u0000${f}`)) continue;
      told.add(`${name}\u0000${f}`);
      problems.push(`${where(i)}: tenant ${name} has ${f} ${e.limits[f] ?? 'unset'} here and ${a[f] ?? 'unset'} in ${where(j)}; keys of one tenant share its counters, so give them the same limits`);
    }
  });
  return problems;
}
