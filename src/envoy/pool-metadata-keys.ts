/**
 * Where Envoy names the pool for infergate's ext_proc server: filter metadata keys and the gRPC metadata key.
 * Its own file because both sides use the names: the server (pool-selection) and infergate as an ext_proc
 * client of another endpoint picker (src/epp/external), which must not depend on the server's state types.
 */

/** The key, in a filter metadata namespace, whose value names the pool: `namespace/name` or `name`. */
export const POOL_METADATA_KEY = 'inference-pool';
/** Namespaces read, in order; then any `com.google.*` namespace (GKE Service Extensions put extension metadata there). */
export const POOL_METADATA_NAMESPACES = ['infergate', 'envoy.filters.http.ext_proc'] as const;
/** gRPC initial metadata naming the pool (Envoy: ExtProcPerRoute.overrides.grpc_initial_metadata). */
export const POOL_GRPC_METADATA_KEY = 'x-infergate-inference-pool';
