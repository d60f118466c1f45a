/** A GatewayError as Envoy's ImmediateResponse: the same status, headers and JSON body (OpenAI's shape, Anthropic's under /v1/messages) as the standalone gateway. */
import type { GatewayError } from '../errors.js';
import { errorBodyFor } from '../route/messages-api.js';
import { DROPPED_REASON_HEADER, FlowControlRejection } from '../flowcontrol/dropped-reason.js';
import { headerMutation } from '../envoy/header-map.js';
import type { ImmediateResponse } from '../envoy/processing-messages.js';

/** `path` is the request's `:path`, when its headers arrived: it picks the body's shape. */
export function immediateResponse(err: GatewayError, path?: string): ImmediateResponse {
  const body = Buffer.from(JSON.stringify(errorBodyFor(path, err)));
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
