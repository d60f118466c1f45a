/** The models a request can reach through the HTTPRoutes: what the gateway's model list and its 404s name. */
import type { ConfigSnapshot } from '../config/snapshot.js';
import type { Datastore } from '../epp/datastore/datastore.js';
import { routedPools } from '../route/routed-pools.js';

/** What the models reached are read from: a gateway's state (src/plan/plan-request.ts, GatewayState) has both. */
export interface RoutedModelsSource {
  readonly snapshot: Pick<ConfigSnapshot, 'routeTable'>;
  readonly datastore: Pick<Datastore, 'pool'>;
}

/**
 * Every model some endpoint lists in its GET /v1/models, among the endpoints of the InferencePools the routes
 * accepting `host` (the request's Host; undefined when it has none) send to. A model only pools outside them
 * serve (no route yet, a weight of 0, routes for another Gateway under --gateway-name) gets 404 route_not_found,
 * so it is not offered. Under ext_proc with the pool named by the data plane, the state's routes are the one
 * catch-all route to that pool (src/extproc/pool-selection.ts), so its models are the ones reached.
 */
export function routedModels(state: RoutedModelsSource, host: string | undefined): Set<string> {
  const out = new Set<string>();
  for (const key of routedPools(state.snapshot.routeTable, host)) {
    for (const ep of state.datastore.pool(key)?.endpoints ?? []) for (const id of ep.models?.keys() ?? []) out.add(id);
  }
  return out;
}
