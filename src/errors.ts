/** The one catalogue of errors infergate answers with: code, HTTP status and OpenAI error type. */

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | number | null };
}

/**
 * The Anthropic Messages API's error body, which vLLM answers on `/v1/messages` (its anthropic entrypoint):
 * `{"type":"error","error":{"type","message"}}`. The Anthropic SDKs read it there.
 */
export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

interface ErrorSpec {
  readonly status: number;
  readonly type: string;
  /** The advice the code carries unless the error names its own (see {@link RetryAdvice}). */
  readonly retry?: RetryAdvice;
}

/**
 * What the client is told about sending the request again: a number is the seconds to wait (`retry-after`),
 * for a failure a retry can fix (a shed request, no ready endpoint yet); `false` says a retry cannot succeed
 * (`x-should-retry: false`, which the openai SDKs obey instead of retrying every 5xx blindly). Errors without
 * advice get neither header.
 */
export type RetryAdvice = number | false;

/** `retry-after` of the gateway's own 429 and of the 503s that pass: load and readiness change within seconds. */
export const RETRY_AFTER_SECONDS = 1;

/**
 * Every error the gateway itself produces. Codes are stable: users grep logs and dashboards for them,
 * and docs/errors.md lists them with what to do.
 */
export const ERROR_CATALOGUE = {
  bad_request: { status: 400, type: 'invalid_request_error' },
  request_header_too_large: { status: 431, type: 'invalid_request_error' },
  request_timeout: { status: 408, type: 'invalid_request_error' },
  too_many_connections: { status: 503, type: 'server_error', retry: RETRY_AFTER_SECONDS },
  request_too_large: { status: 413, type: 'invalid_request_error' },
  unsupported_content_encoding: { status: 415, type: 'invalid_request_error' },
  invalid_json: { status: 400, type: 'invalid_request_error' },
  missing_model: { status: 400, type: 'invalid_request_error' },
  model_not_found: { status: 404, type: 'invalid_request_error' },
  route_not_found: { status: 404, type: 'invalid_request_error' },
  method_not_allowed: { status: 405, type: 'invalid_request_error', retry: false },
  response_not_found: { status: 404, type: 'invalid_request_error' },
  pool_not_found: { status: 500, type: 'server_error', retry: false },
  backend_not_supported: { status: 500, type: 'server_error', retry: false },
  no_healthy_endpoint: { status: 503, type: 'server_error' },
  invalid_endpoint_picker_ref: { status: 500, type: 'server_error', retry: false },
  endpoint_picker_unavailable: { status: 503, type: 'server_error', retry: RETRY_AFTER_SECONDS },
  // An external endpoint picker's own refusal, wrapped: the client gets the picker's status (src/epp/external/immediate-answer.ts).
  endpoint_picker_rejected: { status: 503, type: 'server_error', retry: RETRY_AFTER_SECONDS },
  request_shed: { status: 429, type: 'rate_limit_error', retry: RETRY_AFTER_SECONDS },
  // Flow control (src/flowcontrol): llm-d's outcomes, each with x-llm-d-request-dropped-reason.
  request_queue_full: { status: 429, type: 'rate_limit_error', retry: RETRY_AFTER_SECONDS },
  request_queue_timeout: { status: 429, type: 'rate_limit_error', retry: RETRY_AFTER_SECONDS },
  no_endpoints_available: { status: 503, type: 'server_error', retry: RETRY_AFTER_SECONDS },
  shutting_down: { status: 503, type: 'server_error', retry: RETRY_AFTER_SECONDS },
  admin_path_blocked: { status: 403, type: 'permission_error' },
  // A browser's preflight the CORS policy (--allowed-origins, --allowed-methods, --allowed-headers) does not allow, or CORS off.
  cors_not_allowed: { status: 403, type: 'permission_error', retry: false },
  // --api-keys (src/tenancy): OpenAI's own codes for a missing or unknown key, and for a limit reached.
  invalid_api_key: { status: 401, type: 'invalid_request_error', retry: false },
  model_not_allowed: { status: 403, type: 'permission_error', retry: false },
  // Their site names the seconds until the window resets and, as OpenAI, the type of the limit reached (requests or
  // tokens; src/tenancy/tenancy.ts); 1 and rate_limit_error are only the fallbacks.
  rate_limit_exceeded: { status: 429, type: 'rate_limit_error', retry: RETRY_AFTER_SECONDS },
  insufficient_quota: { status: 429, type: 'insufficient_quota', retry: RETRY_AFTER_SECONDS },
  rate_limit_store_unavailable: { status: 503, type: 'server_error', retry: RETRY_AFTER_SECONDS },
  debug_disabled: { status: 404, type: 'invalid_request_error' },
  // --enable-pprof (src/observability/profiling.ts): profiles run one at a time.
  profile_in_progress: { status: 409, type: 'invalid_request_error' },
  upstream_unavailable: { status: 502, type: 'server_error' },
  upstream_timeout: { status: 504, type: 'server_error' },
  not_ready: { status: 503, type: 'server_error', retry: RETRY_AFTER_SECONDS },
  internal_error: { status: 500, type: 'server_error' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** An error the gateway answers to the client with, in OpenAI's shape. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  /** Whether and when to retry; the code's own advice unless the constructor was given one. */
  readonly retry: RetryAdvice | undefined;
  /** Headers this answer carries besides the retry advice (a 405's `Allow`, a 429's `x-ratelimit-*`). */
  readonly headers: Readonly<Record<string, string>> = {};

  constructor(code: ErrorCode, message: string, param: string | null = null, retry?: RetryAdvice) {
    super(message);
    this.name = 'GatewayError';
    this.code = code;
    const spec: ErrorSpec = ERROR_CATALOGUE[code];
    this.status = spec.status;
    this.type = spec.type;
    this.param = param;
    this.retry = retry ?? spec.retry;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }

  /** The same error in the Anthropic Messages API's shape, its type Anthropic's for the status (see {@link anthropicErrorType}). */
  toAnthropicBody(): AnthropicErrorBody {
    return { type: 'error', error: { type: anthropicErrorType(this.status), message: this.message } };
  }

  /** The response headers that carry the retry advice: `retry-after` (seconds) or `x-should-retry: false`; undefined without advice. */
  retryHeaders(): Record<string, string> | undefined {
    if (this.retry === undefined) return undefined;
    return this.retry === false ? { 'x-should-retry': 'false' } : { 'retry-after': String(this.retry) };
  }

  /** Every header the answer carries: the error's own, then the retry advice. */
  answerHeaders(): Record<string, string> {
    const retry = this.retryHeaders();
    return retry ? { ...this.headers, ...retry } : { ...this.headers };
  }
}

/**
 * Anthropic's error type for a status (https://docs.anthropic.com/en/api/errors): what its clients branch on, where
 * the catalogue's OpenAI types (`server_error`) mean nothing to them. 503 is `overloaded_error`, Anthropic's
 * "temporarily overloaded" (its own status for it is 529): every 503 of the gateway's is a pool that cannot take
 * the request now. Any other 4xx is `invalid_request_error`, any other 5xx `api_error`, as Anthropic's are.
 */
export function anthropicErrorType(status: number): string {
  switch (status) {
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
      return 'overloaded_error';
    default:
      return status < 500 ? 'invalid_request_error' : 'api_error';
  }
}

/** A 405: the method the path takes goes out in the `Allow` header, as HTTP requires of a 405. */
export class MethodNotAllowed extends GatewayError {
  override readonly headers: Readonly<Record<string, string>>;

  constructor(message: string, allow: string) {
    super('method_not_allowed', message);
    this.headers = { allow };
  }
}

/** The most of a client's value (a model name, say) an error message repeats. */
export const MAX_SHOWN_CHARS = 200;

/**
 * `value` as an error message shows it: whole up to MAX_SHOWN_CHARS, else its start and its length. A request
 * may name a model of megabytes; its 404 need not send it back.
 */
export function shown(value: string): string {
  return value.length <= MAX_SHOWN_CHARS ? value : `${value.slice(0, MAX_SHOWN_CHARS)}… (${value.length} characters)`;
}

/** Wraps anything thrown into a GatewayError so the client always gets the OpenAI shape. */
export function asGatewayError(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new GatewayError('internal_error', `internal error: ${message}`);
}
