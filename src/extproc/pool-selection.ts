/**
 * Many pools, one picker: how an ext_proc request names its InferencePool. The data plane may name it
 * (per-route filter metadata, or per-route gRPC initial metadata); otherwise the HTTPRoutes decide, as
 * in the standalone gateway. Documented in docs/extproc.md.
 */
import type { Metadata as GrpcMetadata } from '@grpc/grpc-js';
import type { HTTPRoute } from '../api/http-route.js';
import { INFERENCE_POOL_GROUP } from '../api/inference-pool.js';
import { GatewayError } from '../errors.js';
import type { GatewayState } from '../plan/plan-request.js';
import { compileRoutes } from '../route/route-table.js';
import type { FilterMetadata } from '../envoy/struct-value.js';
import { POOL_GRPC_METADATA_KEY, POOL_METADATA_KEY, POOL_METADATA_NAMESPACES } from '../envoy/pool-metadata-keys.js';


export interface NamedPool {
  /** As given: `namespace/name` or `name`. */
  value: string;
  /** Where it was found, for messages: `filter metadata infergate.inference-pool`. */
  source: string;
}

/** The pool the data plane named for this request, if it named one. */
export function namedPool(metadata: FilterMetadata, grpc: GrpcMetadata | undefined): NamedPool | undefined {
  const namespaces = [...POOL_METADATA_NAMESPACES, ...Object.keys(metadata).filter((ns) => ns.startsWith('com.google.'))];
  for (const ns of namespaces) {
    const v = metadata[ns]?.[POOL_METADATA_KEY];
    if (typeof v === 'string' && v.trim() !== '') return { value: v.trim(), source: `filter metadata ${ns}.${POOL_METADATA_KEY}` };
  }
  const g = grpc?.get(POOL_GRPC_METADATA_KEY)[0];
  if (typeof g === 'string' && g.trim() !== '') return { value: g.trim(), source: `gRPC metadata ${POOL_GRPC_METADATA_KEY}` };
  return undefined;
}

/** `namespace/name` of an existing pool; a bare name must be unique across namespaces. */
export function resolvePoolKey(state: GatewayState, named: NamedPool): string {
  const pools = state.snapshot.pools;
  if (named.value.includes('/')) {
    if (pools.has(named.value)) return named.value;
  } else {
    const matches = [...pools.keys()].filter((k) => k.slice(k.indexOf('/') + 1) === named.value);
    if (matches.length === 1) return matches[0]!;
    if (matches.length > 1) throw new GatewayError('pool_not_found', `${named.source} names InferencePool "${named.value}", which exists in several namespaces (${matches.join(', ')}); name it as namespace/name`);
  }
  // With --kube, a pool the API server has but infergate set aside as invalid: "not in the configuration; fix the
  // data plane's metadata or add the pool" would send the user to a `kubectl get` that finds it (as routes say, e7fd964).
  const invalid = [...(state.snapshot.invalidPools ?? [])].filter(([k]) => k === named.value || k.slice(k.indexOf('/') + 1) === named.value);
  if (invalid.length > 0) {
    const which = invalid.map(([key]) => key).join(', ');
    const problems = invalid.flatMap(([, p]) => p).join('; ');
    throw new GatewayError('pool_not_found', `${named.source} names InferencePool ${which}, which is invalid and set aside until it is fixed: ${problems}`);
  }
  const known = [...pools.keys()].sort();
  throw new GatewayError('pool_not_found', `${named.source} names InferencePool ${named.value}, which is not in the configuration (pools: ${known.length > 0 ? known.join(', ') : 'none'}); fix the data plane's per-route metadata or add the pool`);
}

/**
 * The state that routes every request to `poolKey`: the same snapshot with one catch-all HTTPRoute, so
 * planRoute still runs BBR, the pool's InferenceObjectives and InferenceModelRewrites unchanged. Built
 * once per state and pool.
 */
export class PinnedStates {
  readonly #byState = new WeakMap<GatewayState, Map<string, GatewayState>>();

  get(state: GatewayState, poolKey: string, source: string): GatewayState {
    let byPool = this.#byState.get(state);
    if (!byPool) {
      byPool = new Map();
      this.#byState.set(state, byPool);
    }
    let pinned = byPool.get(poolKey);
    if (!pinned) {
      pinned = { ...state, snapshot: { ...state.snapshot, routeTable: compileRoutes([catchAllRoute(poolKey, source)]) } };
      byPool.set(poolKey, pinned);
    }
    return pinned;
  }
}

function catchAllRoute(poolKey: string, source: string): HTTPRoute {
  const slash = poolKey.indexOf('/');
  const namespace = poolKey.slice(0, slash);
  const name = poolKey.slice(slash + 1);
  return {
    kind: 'HTTPRoute',
    meta: { name: `ext-proc-metadata-${name}`, namespace, labels: {}, annotations: {} },
    source: { file: `ext_proc ${source}`, document: 1, kind: 'HTTPRoute', namespace, name: `ext-proc-metadata-${name}` },
    parentRefs: [],
    hostnames: [],
    rules: [{ matches: [{ path: { type: 'PathPrefix', value: '/' }, headers: [], queryParams: [] }], backendRefs: [{ group: INFERENCE_POOL_GROUP, kind: 'InferencePool', name, namespace, weight: 1 }] }],
  };
}
