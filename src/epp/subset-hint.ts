/**
 * The data plane's `envoy.lb.subset_hint` filter metadata (`x-gateway-destination-endpoint-subset`, a
 * list of `ip:port`): the picker must choose only among those endpoints, and answer 503 if none is eligible.
 */
import { isIP } from 'node:net';
import type { PoolView } from './datastore/datastore.js';
import { NoEndpointError } from './eligibility.js';
import { GatewayError } from '../errors.js';
import type { FilterMetadata } from '../envoy/struct-value.js';

export const SUBSET_HINT_NAMESPACE = 'envoy.lb.subset_hint';
export const SUBSET_HINT_KEY = 'x-gateway-destination-endpoint-subset';

/**
 * The listed endpoints, or undefined when the data plane sent no hint. A comma-separated string (what Envoy's
 * header_to_metadata filter makes of a header listing them) and comma-separated entries are split, as GIE's
 * lightweight EPP splits them. Anything else is a data-plane misconfiguration: 500.
 */
export function subsetHint(metadata: FilterMetadata): string[] | undefined {
  const v = metadata[SUBSET_HINT_NAMESPACE]?.[SUBSET_HINT_KEY];
  if (v === undefined) return undefined;
  const list = typeof v === 'string' ? [v] : v;
  if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
    throw new GatewayError('internal_error', `filter metadata ${SUBSET_HINT_NAMESPACE}.${SUBSET_HINT_KEY} must be a list of "ip:port" strings, got ${JSON.stringify(v)}`);
  }
  return (list as string[]).flatMap((s) => s.split(',')).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The pool restricted to the hinted endpoints, matched by IP as GIE's and llm-d's EPP match them (they drop the
 * port): a data plane that lists a pod under another port (a Service port, a sidecar's) still gets a pick where an
 * exact `ip:port` match would answer 503. Where a listed port is one of the pool's ports on that IP, only those
 * endpoints match, as the protocol's `ip:port` list says (and GIE's lightweight EPP matches): a pod serving
 * data-parallel ranks on several ports keeps to the ranks named. An entry without a port (`10.0.0.5`, `fd00::5`)
 * matches every port of that address. Throws 503 naming the hint and the pool's endpoints when none is in the pool.
 */
export function restrictToSubset(view: PoolView, subset: readonly string[]): PoolView {
  // IP -> the ports listed with it; undefined: every port.
  const hinted = new Map<string, Set<number> | undefined>();
  for (const entry of subset) {
    const { ip, port } = parseEntry(entry);
    if (port === undefined) hinted.set(ip, undefined);
    else if (!hinted.has(ip)) hinted.set(ip, new Set([port]));
    else hinted.get(ip)?.add(port);
  }
  // The IPs whose listed ports name endpoints of the pool: there, only those ports.
  const exact = new Set(view.endpoints.filter((ep) => hinted.get(ep.ip)?.has(ep.port) === true).map((ep) => ep.ip));
  const endpoints = view.endpoints.filter((ep) => hinted.has(ep.ip) && (!exact.has(ep.ip) || hinted.get(ep.ip)!.has(ep.port)));
  if (endpoints.length === 0) {
    const pool = view.endpoints.map((ep) => ep.address).join(', ') || 'none';
    throw new NoEndpointError(`no endpoint of InferencePool ${view.key} is in the data plane's subset hint (${SUBSET_HINT_NAMESPACE}: ${subset.length > 0 ? subset.join(', ') : 'an empty list'}); the pool's endpoints: ${pool}`, []);
  }
  return { ...view, endpoints };
}

/** `ip:port`, `[v6]:port`, or a bare IP (v4, v6 with or without brackets): the IP unbracketed, and the port if any. */
function parseEntry(entry: string): { ip: string; port?: number } {
  if (isIP(entry) !== 0) return { ip: entry };
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) return bracketed[2] === undefined ? { ip: bracketed[1]! } : { ip: bracketed[1]!, port: Number(bracketed[2]) };
  const colon = entry.lastIndexOf(':');
  const port = colon < 0 ? undefined : Number(entry.slice(colon + 1));
  return port !== undefined && Number.isInteger(port) && colon > 0 ? { ip: entry.slice(0, colon), port } : { ip: entry };
}
