/** A request's fairness ID, the tenant half of its flow key: the API key's tenant, else llm-d's header, else `default-flow`. */
import { FAIRNESS_ID_HEADER, aliasedHeader } from '../api/llm-d-names.js';

/** llm-d's fairness ID for requests that name none. */
export const DEFAULT_FLOW_ID = 'default-flow';

/**
 * `tenant` is the name of the API key that authenticated the request (src/tenancy) when keys are on: a client
 * then cannot pick its own queue. Without one, `x-llm-d-inference-fairness-id` (or GIE's
 * `x-gateway-inference-fairness-id`), else `default-flow`.
 */
export function fairnessIdOf(headers: ReadonlyMap<string, string> | undefined, tenant?: string): string {
  if (tenant !== undefined && tenant !== '') return tenant;
  const h = headers ? aliasedHeader((n) => headers.get(n), FAIRNESS_ID_HEADER) : undefined;
  return h !== undefined && h !== '' ? h : DEFAULT_FLOW_ID;
}
