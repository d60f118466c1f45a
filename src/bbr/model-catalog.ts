/**
 * What the pods say they serve, as body-based routing reads it: every model some endpoint lists in `GET /v1/models`
 * (an adapter with its base as `parent`). Built by the datastore (src/epp/datastore/model-catalog.ts).
 */
import type { ModelCard } from '../api/model-card.js';

export interface CatalogEntry {
  card: ModelCard;
  /** Pods (namespace/name) that list this model, for `explain` and error messages. */
  pods: string[];
}

export interface ModelCatalog {
  readonly models: ReadonlyMap<string, CatalogEntry>;
  /**
   * Pods whose GET /v1/models answered 401 or 403 (they want another API key), each with the message saying
   * what to set: a model they serve is unknown here, and the 404 for it must say why.
   */
  readonly refused?: readonly { pod: string; message: string }[];
  /**
   * Endpoints that speak another HTTP version than their pool's `appProtocol` says, so they could not say what
   * they serve (src/upstream/protocol-mismatch.ts); the 404 names the protocol, not discovery.
   */
  readonly mismatched?: readonly { pod: string; address: string; message: string }[];
}
