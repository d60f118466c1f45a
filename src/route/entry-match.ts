/** Whether one compiled (route, rule, match) entry accepts a request, hostnames aside. */
import type { RouteEntry } from './route-table.js';
import type { RouteRequest } from './route-request.js';

/** True when every condition of `entry` holds for `req`; the cheapest checks run first. */
export function entryMatches(entry: RouteEntry, req: RouteRequest): boolean {
  if (entry.method !== undefined && entry.method !== req.method) return false;
  if (!entry.path.test(req.path)) return false;
  for (const h of entry.headers) if (!h.test(req.headers(h.name))) return false;
  for (const q of entry.queryParams) if (!q.test(req.query.get(q.name) ?? undefined)) return false;
  return true;
}
