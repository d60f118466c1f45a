/** The request headers body-based routing sets, and the ones a client must never be able to set itself. */

export const MODEL_NAME_HEADER = 'x-gateway-model-name';
export const BASE_MODEL_NAME_HEADER = 'x-gateway-base-model-name';
export const DESTINATION_ENDPOINT_HEADER = 'x-gateway-destination-endpoint';
export const DESTINATION_ENDPOINT_SERVED_HEADER = 'x-gateway-destination-endpoint-served';

/** llm-d's disaggregation headers (llm-d-router `pkg/common/routing`): the prefill pod, and the encode pods (comma-separated). */
export const PREFILL_ENDPOINT_HEADER = 'x-prefiller-host-port';
export const ENCODER_ENDPOINTS_HEADER = 'x-encoder-hosts-ports';

/**
 * The headers llm-d's endpoint picker writes for the routing sidecar in front of a decode pod (llm-d-router
 * `pkg/common/routing`), current and pre-rename spellings: the sidecar sends the prefill, encode or KV-cache pull
 * to the address in them. llm-d's EPP removes every one it did not set itself, so that a client cannot point a
 * pod's sidecar at a host of its choosing. infergate removes them all from clients' requests; a pool whose
 * EndpointPickerConfig disaggregates (src/epp/plugins/disagg) has the two above set by its profile handler.
 */
export const DISAGGREGATION_HEADERS: ReadonlySet<string> = new Set([
  'x-llm-d-prefiller-host-port',
  'x-prefiller-host-port',
  'x-llm-d-encoder-hosts-ports',
  'x-encoder-hosts-ports',
  'x-data-parallel-host-port',
  'x-llm-d-kv-cache-source-host-port',
  'x-kv-cache-source-host-port',
]);

/**
 * True for headers only the gateway may set. A client sending `X-Gateway-Base-Model-Name` could otherwise
 * steer itself into another model's pool, `x-gateway-destination-endpoint*` onto a pod of its choice, and
 * `x-prefiller-host-port` (DISAGGREGATION_HEADERS) a decode pod's sidecar onto any host.
 */
export function isReservedRoutingHeader(lowerName: string): boolean {
  return lowerName === MODEL_NAME_HEADER || lowerName === BASE_MODEL_NAME_HEADER || lowerName.startsWith(DESTINATION_ENDPOINT_HEADER) || DISAGGREGATION_HEADERS.has(lowerName);
}
