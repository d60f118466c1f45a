/** Whether one HTTPRoute match accepts every request another accepts (hostnames and parents aside). */
import type { PathMatch } from '../../api/http-route.js';
import type { RouteEntry } from '../../route/route-table.js';
import type { CompiledValueMatch } from '../../route/value-match.js';

/**
 * True when every request `b` accepts, `a` accepts too. Only what can be told for certain counts: two
 * different regular expressions never cover each other, though one may in fact contain the other.
 */
export function matchCovers(a: RouteEntry, b: RouteEntry): boolean {
  if (a.method !== undefined && a.method !== b.method) return false;
  if (!pathCovers(a, b.match.path)) return false;
  return valuesCover(a.headers, b.headers) && valuesCover(a.queryParams, b.queryParams);
}

function pathCovers(a: RouteEntry, b: PathMatch): boolean {
  const p = a.match.path;
  if (b.type === 'Exact') return a.path.test(b.value);
  if (p.type === 'PathPrefix' && b.type === 'PathPrefix') {
    // Element-wise prefixes: "/v1" covers "/v1/chat" but not "/v1chat".
    const outer = trimSlashes(p.value);
    const inner = trimSlashes(b.value);
    return outer === '' || inner === outer || inner.startsWith(outer + '/');
  }
  if (p.type === 'PathPrefix' && trimSlashes(p.value) === '') return true;
  return p.type === b.type && p.value === b.value;
}

/** Every condition of `a` is implied by a condition of `b` on the same name. */
function valuesCover(a: readonly CompiledValueMatch[], b: readonly CompiledValueMatch[]): boolean {
  return a.every((cond) => {
    const other = b.find((x) => x.name === cond.name);
    if (!other) return false;
    if (other.spec.type === 'Exact') return cond.test(other.spec.value);
    return cond.spec.type === other.spec.type && cond.spec.value === other.spec.value;
  });
}

function trimSlashes(value: string): string {
  return value.replace(/\/+$/, '');
}
