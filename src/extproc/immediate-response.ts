/** A GatewayError as Envoy's ImmediateResponse: the same status and OpenAI-shaped JSON body as the standalone gateway. */
import type { GatewayError } from '../errors.js';
import { headerMutation } from './header-map.js';
import type { ImmediateResponse } from './processing-messages.js';

export function immediateResponse(err: GatewayError): ImmediateResponse {
  const body = Buffer.from(JSON.stringify(err.toBody()));
  return {
    status: { code: err.status },
    headers: headerMutation({ set: { 'content-type': 'application/json', ...err.retryHeaders() }, remove: [] })!,
    body,
    // Envoy logs this as %RESPONSE_CODE_DETAILS%; error codes have no spaces, which Envoy would replace.
    details: `infergate_${err.code}`,
  };
}
