/**
 * What the client gets when an external endpoint picker answers a request itself (an ImmediateResponse: 429 shed,
 * 503 nothing eligible, 400 bad body): the picker's status and headers, and its body when that is already an
 * OpenAI-shaped error (infergate's own `extproc` sends those); any other error body (GIE's and llm-d's EPPs send
 * plain text) is wrapped into one, code `endpoint_picker_rejected`, its text kept in the message.
 */
import { ERROR_CATALOGUE, RETRY_AFTER_SECONDS, type ErrorCode, type OpenAIErrorBody } from '../../errors.js';
import type { PickerAnswer } from './picker-answer.js';
import { GATEWAY_OWNED_HEADERS } from './gateway-owned-headers.js';

export interface ClientAnswer {
  status: number;
  /** Flat `[name, value, ...]`, as `res.writeHead` takes them. */
  headers: string[];
  body: Buffer;
  /**
   * For the request's record (metrics, access log): the body's code when it is one of infergate's (its own
   * `extproc` answered), else `endpoint_picker_rejected`; undefined for an answer that is no error.
   */
  errorCode?: ErrorCode;
}


/** The longest picker text quoted in a wrapped message. */
const MAX_QUOTED_CHARS = 1000;

/** `who`: "the endpoint picker of InferencePool llm/gemma (Service llm/epp)", the start of a wrapped message. */
export function immediateAnswer(a: Extract<PickerAnswer, { kind: 'immediate' }>, who: string, requestId: string): ClientAnswer {
  const headers: string[] = [];
  let contentType: string | undefined;
  for (const [name, value] of a.headers) {
    if (name.startsWith(':') || GATEWAY_OWNED_HEADERS.has(name)) continue;
    if (name === 'content-type') {
      contentType = value;
      continue;
    }
    headers.push(name, value);
  }
  let body = a.body;
  let errorCode: ErrorCode | undefined;
  const own = a.status >= 400 ? openAIErrorCode(body) : undefined;
  if (own !== undefined) errorCode = typeof own === 'string' && Object.hasOwn(ERROR_CATALOGUE, own) ? (own as ErrorCode) : 'endpoint_picker_rejected';
  else if (a.status >= 400) {
    errorCode = 'endpoint_picker_rejected';
    const text = body.toString('utf8').trim();
    const quoted = text.length > MAX_QUOTED_CHARS ? `${text.slice(0, MAX_QUOTED_CHARS)}...` : text;
    const wrapped: OpenAIErrorBody = {
      error: { message: `${who} refused the request with ${a.status}${quoted !== '' ? `: ${quoted}` : ''}`, type: errorType(a.status), param: null, code: 'endpoint_picker_rejected' },
    };
    body = Buffer.from(JSON.stringify(wrapped));
    contentType = 'application/json';
    // The advice the gateway's own 429 and 503 carry, unless the picker gave its own.
    if ((a.status === 429 || a.status === 503) && !a.headers.some(([name]) => name === 'retry-after')) headers.push('retry-after', String(RETRY_AFTER_SECONDS));
  }
  if (contentType !== undefined) headers.push('content-type', contentType);
  headers.push('content-length', String(body.length), 'x-request-id', requestId);
  return { status: a.status, headers, body, ...(errorCode !== undefined ? { errorCode } : {}) };
}

/**
 * The `code` of an OpenAI-shaped error body (`{"error": {"message": "..."}}` at least, what clients' OpenAI SDKs
 * read as the error it is): `null` when it has none; undefined when the body is not one.
 */
function openAIErrorCode(body: Buffer): unknown {
  if (body.length === 0 || body[0] !== 0x7b) return undefined;
  try {
    const o = JSON.parse(body.toString('utf8')) as { error?: { message?: unknown; code?: unknown } };
    if (typeof o.error !== 'object' || o.error === null || typeof o.error.message !== 'string') return undefined;
    return o.error.code ?? null;
  } catch {
    return undefined;
  }
}

/** OpenAI's error type for a status, as the gateway's own errors use them (src/errors.ts). */
function errorType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status === 401) return 'authentication_error';
  if (status === 403) return 'permission_error';
  return status < 500 ? 'invalid_request_error' : 'server_error';
}
