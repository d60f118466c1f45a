/**
 * The data plane's `envoy.lb.subset_hint` filter metadata (`x-gateway-destination-endpoint-subset`, a
 * list of `ip:port`): the picker must choose only among those endpoints, and answer 503 if none is eligible.
 */
import type { PoolView } from './datastore/datastore.js';
import { NoEndpointError } from './eligibility.js';
import { GatewayError } from '../errors.js';
import type { FilterMetadata } from '../envoy/struct-value.js';

export const SUBSET_HINT_NAMESPACE = 'envoy.lb.subset_hint';
export const SUBSET_HINT_KEY = 'x-gateway-destination-endpoint-subset';

/** The listed endpoints, or undefined when the data plane sent no hint. A malformed hint is a data-plane misconfiguration: 500. */
export function subsetHint(metadata: FilterMetadata): string[] | undefined {
  const v = metadata[SUBSET_HINT_NAMESPACE]?.[SUBSET_HINT_KEY];
  if (v === undefined) return undefined;
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) {
    throw new GatewayError('internal_error', `filter metadata ${SUBSET_HINT_NAMESPACE}.${SUBSET_HINT_KEY} must be a list of "ip:port" strings, got ${JSON.stringify(v)}`);
  }
  return (v as string[]).map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * The pool restricted to the hinted endpoints. An entry without a port (`10.0.0.5`) matches every port of
 * that address. Throws 503 naming the hint and the pool's endpoints when none of them is in the pool.
 */
export function restrictToSubset(view: PoolView, subset: readonly string[]): PoolView {
  const wanted = new Set(subset);
  const endpoints = view.endpoints.filter((ep) => wanted.has(ep.address) || wanted.has(ep.ip) || wanted.has(`[${ep.ip}]`));
  if (endpoints.length === 0) {
    const pool = view.endpoints.map((ep) => ep.address).join(', ') || 'none';
    throw new NoEndpointError(`no endpoint of InferencePool ${view.key} is in the data plane's subset hint (${SUBSET_HINT_NAMESPACE}: ${subset.length > 0 ? subset.join(', ') : 'an empty list'}); the pool's endpoints: ${pool}`, []);
  }
  return { ...view, endpoints };
}
