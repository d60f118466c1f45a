/** The Anthropic Messages API, which vLLM serves beside OpenAI's: its clients read the gateway's errors in Anthropic's shape. */
import type { GatewayError } from '../errors.js';

/**
 * Whether `url` (origin-form, query and all) is under `/v1/messages`: vLLM's `POST /v1/messages` and
 * `POST /v1/messages/count_tokens`, which answer errors as `{"type":"error","error":{"type","message"}}`. The
 * Anthropic SDKs' beta calls add `?beta=true`.
 */
export function isMessagesApi(url: string | undefined): boolean {
  if (url === undefined || !url.startsWith(PREFIX)) return false;
  const next = url.charCodeAt(PREFIX.length);
  // The path ends there, or goes on below it (NaN: the end of the string).
  return Number.isNaN(next) || next === QUESTION || next === SLASH;
}

/** The error's body for a request to `url`: Anthropic's shape under /v1/messages, OpenAI's everywhere else. */
export function errorBodyFor(url: string | undefined, err: GatewayError): object {
  return isMessagesApi(url) ? err.toAnthropicBody() : err.toBody();
}

const PREFIX = '/v1/messages';
const QUESTION = 0x3f;
const SLASH = 0x2f;
