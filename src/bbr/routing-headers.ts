/** The request headers body-based routing sets, and the ones a client must never be able to set itself. */

export const MODEL_NAME_HEADER = 'x-gateway-model-name';
export const BASE_MODEL_NAME_HEADER = 'x-gateway-base-model-name';
export const DESTINATION_ENDPOINT_HEADER = 'x-gateway-destination-endpoint';
export const DESTINATION_ENDPOINT_SERVED_HEADER = 'x-gateway-destination-endpoint-served';

/**
 * True for headers only the gateway may set. A client sending `X-Gateway-Base-Model-Name` could otherwise
 * steer itself into another model's pool, and `x-gateway-destination-endpoint*` onto a pod of its choice.
 */
export function isReservedRoutingHeader(lowerName: string): boolean {
  return lowerName === MODEL_NAME_HEADER || lowerName === BASE_MODEL_NAME_HEADER || lowerName.startsWith(DESTINATION_ENDPOINT_HEADER);
}
