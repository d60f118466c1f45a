/** The one catalogue of errors infergate answers with: code, HTTP status and OpenAI error type. */

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | number | null };
}

interface ErrorSpec {
  readonly status: number;
  readonly type: string;
}

/**
 * Every error the gateway itself produces. Codes are stable: users grep logs and dashboards for them,
 * and docs/errors.md lists them with what to do.
 */
export const ERROR_CATALOGUE = {
  bad_request: { status: 400, type: 'invalid_request_error' },
  request_header_too_large: { status: 431, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'invalid_request_error' },
  too_many_connections: { status: 503, type: 'server_error' },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  missing_model: { status: 400, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  route_not_found: { status: 404, type: 'invalid_request_error' },
  pool_not_found: { status: 500, type: 'server_error' },
  backend_not_supported: { status: 500, type: 'server_error' },
  no_healthy_endpoint: { status: 503, type: 'server_error' },
  invalid_endpoint_picker_ref: { status: 500, type: 'server_error' },
  endpoint_picker_unavailable: { status: 503, type: 'server_error' },
  request_shed: { status: 429, type: 'rate_limit_error' },
  admin_path_blocked: { status: 403, type: 'permission_error' },
  debug_disabled: { status: 404, type: 'invalid_request_error' },
  upstream_unavailable: { status: 502, type: 'server_error' },
  upstream_timeout: { status: 504, type: 'server_error' },
  not_ready: { status: 503, type: 'server_error' },
  internal_error: { status: 500, type: 'server_error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error the gateway answers to the client with, in OpenAI's shape. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;

  constructor(code: ErrorCode, message: string, param: string | null = null) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    this.status = ERROR_CATALOGUE[code].status;
    this.type = ERROR_CATALOGUE[code].type;
    this.param = param;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

/** Wraps anything thrown into a GatewayError so the client always gets the OpenAI shape. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError('internal_error', `internal error: ${message}`);
}
