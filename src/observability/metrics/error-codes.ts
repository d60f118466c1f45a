/**
 * The `error_code` label of `*_request_error_total`: llm-d's codes (pkg/common/error/error.go), mapped from
 * infergate's catalogue (src/errors.ts) so llm-d's dashboards and alerts read infergate unchanged.
 */
import type { ErrorCode } from '../../errors.js';

/** llm-d's canonical error codes. */
export type LlmDErrorCode = 'BadRequest' | 'NotFound' | 'ServiceUnavailable' | 'ResourceExhausted' | 'Internal' | 'ModelServerError' | 'Forbidden' | 'Unauthorized' | 'Unknown';

/**
 * Every catalogue code, by the llm-d code it counts as. A model server that answered with a status other
 * than 200 is `ModelServerError` (as llm-d counts it) whatever its body says; so is one that did not answer in
 * time, since the pod, not the gateway, failed. A test checks every catalogue code is here.
 */
export const ERROR_CODE_MAP: Readonly<Partial<Record<ErrorCode, LlmDErrorCode>>> = {
  bad_request: 'BadRequest',
  request_header_too_large: 'BadRequest',
  request_timeout: 'BadRequest',
  request_too_large: 'BadRequest',
  unsupported_content_encoding: 'BadRequest',
  invalid_json: 'BadRequest',
  missing_model: 'BadRequest',
  model_not_found: 'NotFound',
  route_not_found: 'NotFound',
  method_not_allowed: 'BadRequest',
  response_not_found: 'NotFound',
  debug_disabled: 'NotFound',
  profile_in_progress: 'BadRequest',
  pool_not_found: 'Internal',
  backend_not_supported: 'Internal',
  internal_error: 'Internal',
  no_healthy_endpoint: 'ServiceUnavailable',
  invalid_endpoint_picker_ref: 'Internal',
  endpoint_picker_unavailable: 'ServiceUnavailable',
  endpoint_picker_rejected: 'ServiceUnavailable',
  upstream_unavailable: 'ServiceUnavailable',
  not_ready: 'ServiceUnavailable',
  too_many_connections: 'ServiceUnavailable',
  request_shed: 'ResourceExhausted',
  request_queue_full: 'ResourceExhausted',
  request_queue_timeout: 'ResourceExhausted',
  no_endpoints_available: 'ServiceUnavailable',
  shutting_down: 'ServiceUnavailable',
  admin_path_blocked: 'Forbidden',
  cors_not_allowed: 'Forbidden',
  invalid_api_key: 'Unauthorized',
  model_not_allowed: 'Forbidden',
  rate_limit_exceeded: 'ResourceExhausted',
  insufficient_quota: 'ResourceExhausted',
  rate_limit_store_unavailable: 'ServiceUnavailable',
  upstream_timeout: 'ModelServerError',
};

/** The llm-d code of a catalogue code; `Unknown` for anything else (a code added to the catalogue and not here). */
export function llmDErrorCode(code: string): LlmDErrorCode {
  return (ERROR_CODE_MAP as Record<string, LlmDErrorCode | undefined>)[code] ?? 'Unknown';
}
