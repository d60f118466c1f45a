/**
 * The tenant an API key names, as the rest of the gateway sees it (flow control queues by it): set on the
 * RoutePlan (`plan.tenant`) and the RequestRecord (`record.tenant`) when `--api-keys` is on, absent otherwise.
 * Never holds the key or its hash.
 */
export interface Tenant {
  /** The key entry's `name`: the tenant, also the request's fairness id. */
  readonly name: string;
  /**
   * The priority the key gives its requests (the entry's `priority`, or its InferenceObjective's); undefined
   * when the key names neither, and the request's InferenceObjective decides as without keys.
   */
  readonly priority: number | undefined;
  /** The InferenceObjective the key's requests are sent with, when the entry names one. */
  readonly objective: string | undefined;
}
