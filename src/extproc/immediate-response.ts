/** A GatewayError as Envoy's ImmediateResponse: the same status, headers and OpenAI-shaped JSON body as the standalone gateway. */
import type { GatewayError } from '../errors.js';
import { DROPPED_REASON_HEADER, FlowControlRejection } from '../flowcontrol/dropped-reason.js';
import { headerMutation } from '../envoy/header-map.js';
import type { ImmediateResponse } from '../envoy/processing-messages.js';

export function immediateResponse(err: GatewayError): ImmediateResponse {
  const body = Buffer.from(JSON.stringify(err.toBody()));
  // Flow control's answers name why the request was dropped, as llm-d's EPP does through Envoy.
  const dropped = err instanceof FlowControlRejection ? { [DROPPED_REASON_HEADER]: err.reason } : undefined;
  return {
    status: { code: err.status },
    headers: headerMutation({ set: { 'content-type': 'application/json', ...err.answerHeaders(), ...dropped }, remove: [] })!,
    body,
    // Envoy logs this as %RESPONSE_CODE_DETAILS%; error codes have no spaces, which Envoy would replace.
    details: `infergate_${err.code}`,
  };
}
