/** Errors the simulator answers with, in vLLM's shape (`code` is the HTTP status, as in vLLM >= 0.10.1). */
import type { OpenAIErrorBody } from '../errors.js';

/** vLLM names the error type after the status (vllm/entrypoints/openai/serving_engine.py). */
const TYPE_BY_STATUS: Readonly<Record<number, string>> = {
  400: 'BadRequestError',
  // 401 and 429 are never sent by vLLM itself; these are the names llm-d-inference-sim (and the openai client) use.
  401: 'AuthenticationError',
  404: 'NotFoundError',
  405: 'MethodNotAllowedError',
  409: 'ConflictError',
  413: 'RequestEntityTooLargeError',
  429: 'RateLimitError',
  500: 'InternalServerError',
  503: 'ServiceUnavailableError',
};

/** An error that becomes one vLLM-shaped HTTP response. */
export class VllmError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;

  /** `type` defaults to the name vLLM gives the status; some vLLM paths use their own (e.g. `InvalidUserInput`). */
  constructor(status: number, message: string, param: string | null = null, type?: string) {
    super(message);
    this.name = 'VllmError';
    this.status = status;
    this.type = type ?? TYPE_BY_STATUS[status] ?? 'InternalServerError';
    this.param = param;
  }

  toBody(): OpenAIErrorBody {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.status } };
  }

  /** The body the client gets: OpenAI's shape, on every path but the Anthropic Messages API's. */
  responseBody(): object {
    return this.toBody();
  }
}

/**
 * An error of vLLM's Anthropic Messages API handler (vllm/entrypoints/anthropic/api_router.py
 * `translate_error_response`): the same status and type, in Anthropic's shape `{"type":"error","error":{"type","message"}}`,
 * which the Anthropic SDKs read.
 */
export class AnthropicShapedError extends VllmError {
  constructor(err: VllmError) {
    super(err.status, err.message, err.param, err.type);
  }

  override responseBody(): object {
    return { type: 'error', error: { type: this.type, message: this.message } };
  }
}

/** Shorthand for the common 400 with the offending field in `param`. */
export function badRequest(message: string, param: string | null = null): VllmError {
  return new VllmError(400, message, param);
}

/** vLLM's answer for a model it does not serve (serving_engine.py `_check_model`). */
export function modelNotFound(model: string): VllmError {
  return new VllmError(404, `The model \`${model}\` does not exist.`, 'model');
}

/** Wraps anything thrown, so a bug still answers in vLLM's shape instead of dropping the connection. */
export function asVllmError(err: unknown): VllmError {
  if (err instanceof VllmError) return err;
  return new VllmError(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
}
