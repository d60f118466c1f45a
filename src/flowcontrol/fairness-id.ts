/** A request's fairness ID, the tenant half of its flow key: the API key's tenant, else llm-d's header, else `default-flow`. */
import { FAIRNESS_ID_HEADER, aliasedHeader } from '../api/llm-d-names.js';
import type { AgentIdentitySource } from './flow-control-config.js';

/** llm-d's fairness ID for requests that name none. */
export const DEFAULT_FLOW_ID = 'default-flow';

/**
 * `tenant` is the name of the API key that authenticated the request (src/tenancy) when keys are on: a client
 * then cannot pick its own queue. Without one, `x-llm-d-inference-fairness-id` (or GIE's
 * `x-gateway-inference-fairness-id`); else, when the config has an `agent-identity` plugin, the coding agent's
 * session id (every turn of an agent session in one queue, as llm-d's Director does); else `default-flow`.
 */
export function fairnessIdOf(headers: ReadonlyMap<string, string> | undefined, tenant?: string, agent?: AgentIdentitySource): string {
  if (tenant !== undefined && tenant !== '') return tenant;
  const h = headers ? aliasedHeader((n) => headers.get(n), FAIRNESS_ID_HEADER) : undefined;
  if (h !== undefined && h !== '') return h;
  const id = agent !== undefined && headers !== undefined ? agent.identify((n) => headers.get(n)) : undefined;
  return id ?? DEFAULT_FLOW_ID;
}
