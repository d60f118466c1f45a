/** Which endpoint served a response, from the headers a gateway or a pod adds, and whether it can be asked what it serves. */

/** Set by an inference gateway (GIE's protocol): the ip:port of the pod that served the request. */
export const SERVED_ENDPOINT_HEADER = 'x-gateway-destination-endpoint-served';
/** Set by vLLM-compatible pods such as infergate's simulator: the pod's name. */
const POD_HEADER = 'x-inference-pod';

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The gateway's header first, then the pod's; null when neither is present (the caller decides what that means). */
export function servedEndpointFrom(headers: Record<string, string | string[] | undefined>): string | null {
  const v = first(headers[SERVED_ENDPOINT_HEADER]) ?? first(headers[POD_HEADER]);
  const trimmed = v?.trim();
  return trimmed === undefined || trimmed === '' ? null : trimmed;
}

/** `10.0.0.7:8000`, `[fd00::1]:8000` or `pod-a.ns:8000`: an address we can send `GET /v1/models` to; a bare pod name is not. */
export function isAddress(endpoint: string): boolean {
  return /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5}$/.test(endpoint);
}
