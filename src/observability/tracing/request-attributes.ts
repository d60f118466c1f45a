/**
 * What a request's spans say, read off its RequestRecord: the server span's HTTP, GenAI and infergate
 * attributes, each upstream attempt's, and whether (and how) each failed.
 */
import type { Attributes } from '@opentelemetry/api';
import {
  ATTR_CLIENT_ADDRESS,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_SERVER_ADDRESS,
  ATTR_SERVER_PORT,
  ATTR_URL_FULL,
  ATTR_URL_PATH,
  ATTR_URL_SCHEME,
} from '@opentelemetry/semantic-conventions';
import type { RequestRecord, UpstreamAttempt } from '../request-record.js';
import {
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROVIDER_NAME,
  ATTR_GEN_AI_REQUEST_MODEL,
  ATTR_GEN_AI_REQUEST_STREAM,
  ATTR_GEN_AI_RESPONSE_MODEL,
  ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK,
  ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_INPUT_TOKENS,
  ATTR_GEN_AI_USAGE_OUTPUT_TOKENS,
  operationOf,
  providerOf,
} from './genai-attributes.js';

/** `ip:port` or `[v6]:port` -> host and port; undefined when there is no port. */
export function splitEndpoint(endpoint: string): { host: string; port: number } | undefined {
  const colon = endpoint.lastIndexOf(':');
  if (colon <= 0) return undefined;
  const port = Number(endpoint.slice(colon + 1));
  if (!Number.isInteger(port)) return undefined;
  const host = endpoint.slice(0, colon);
  return { host: host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host, port };
}

/** The model the pod was asked for: the rewrite's target, else the model as sent. */
function targetOf(r: RequestRecord): string | undefined {
  return r.targetModel ?? r.model;
}

/**
 * Why the request failed, as `error.type`: the gateway's error code when it answered with an error, the
 * last attempt's error when the answer broke after it started, the status for an upstream 5xx; undefined
 * when it did not fail. A 4xx the pod sent is the client's to fix (the HTTP conventions leave a server span
 * unset then); a client that went away is no failure either.
 */
export function requestErrorType(r: RequestRecord): string | undefined {
  if (r.errorCode !== undefined) return r.errorCode;
  if (r.clientGone === true) return undefined;
  const last = r.attemptLog[r.attemptLog.length - 1];
  if (last?.error !== undefined) return last.error;
  if (r.status === undefined) return r.scheduledAt !== undefined ? 'response_incomplete' : undefined;
  return r.status >= 500 ? String(r.status) : undefined;
}

/** The server span's attributes once the request is over. */
export function requestAttributes(r: RequestRecord): Attributes {
  const a: Attributes = {
    [ATTR_HTTP_REQUEST_METHOD]: r.method,
    [ATTR_URL_PATH]: r.path,
    [ATTR_URL_SCHEME]: 'http',
    'infergate.request_id': r.requestId,
    'infergate.attempts': r.attempts,
    'infergate.priority': r.priority,
  };
  if (r.clientAddress !== undefined) a[ATTR_CLIENT_ADDRESS] = r.clientAddress;
  if (r.status !== undefined) a[ATTR_HTTP_RESPONSE_STATUS_CODE] = r.status;
  const op = operationOf(r.path);
  if (op !== undefined) {
    a[ATTR_GEN_AI_OPERATION_NAME] = op;
    a[ATTR_GEN_AI_PROVIDER_NAME] = providerOf(r.path);
    a[ATTR_GEN_AI_REQUEST_STREAM] = r.stream;
  }
  if (r.model !== undefined) a[ATTR_GEN_AI_REQUEST_MODEL] = r.model;
  const target = targetOf(r);
  // The model that answered: only when an answer came (a refused request has none).
  if (target !== undefined && r.status !== undefined && r.status < 400 && r.scheduledAt !== undefined) a[ATTR_GEN_AI_RESPONSE_MODEL] = target;
  const u = r.usage;
  if (u) {
    a[ATTR_GEN_AI_USAGE_INPUT_TOKENS] = u.promptTokens;
    a[ATTR_GEN_AI_USAGE_OUTPUT_TOKENS] = u.completionTokens;
    if (u.cachedTokens !== undefined) a[ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS] = u.cachedTokens;
  }
  if (r.stream && r.firstTokenAt !== undefined) a[ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK] = (r.firstTokenAt - r.startedAt) / 1000;
  if (r.endpoint !== undefined) {
    const ep = splitEndpoint(r.endpoint);
    if (ep) {
      a[ATTR_SERVER_ADDRESS] = ep.host;
      a[ATTR_SERVER_PORT] = ep.port;
    }
  }
  if (r.pool !== undefined) a['infergate.pool'] = r.pool;
  if (r.baseModel !== undefined) a['infergate.base_model'] = r.baseModel;
  if (r.rewriteName !== undefined) a['infergate.rewrite'] = r.rewriteName;
  if (r.modelField !== undefined) a['infergate.model_field'] = r.modelField;
  if (r.clientGone === true) a['infergate.client_gone'] = true;
  if (r.stream) a['infergate.token_events'] = r.tokenEvents;
  const err = requestErrorType(r);
  if (err !== undefined) a[ATTR_ERROR_TYPE] = err;
  return a;
}

/** An attempt span's attributes when it starts: where it goes and what it asks for. */
export function attemptStartAttributes(r: RequestRecord, attempt: UpstreamAttempt, n: number): Attributes {
  const a: Attributes = { [ATTR_HTTP_REQUEST_METHOD]: r.method, [ATTR_URL_FULL]: `http://${attempt.endpoint}${r.path}`, 'infergate.attempt': n };
  const ep = splitEndpoint(attempt.endpoint);
  if (ep) {
    a[ATTR_SERVER_ADDRESS] = ep.host;
    a[ATTR_SERVER_PORT] = ep.port;
  }
  const op = operationOf(r.path);
  if (op !== undefined) {
    a[ATTR_GEN_AI_OPERATION_NAME] = op;
    a[ATTR_GEN_AI_PROVIDER_NAME] = providerOf(r.path);
  }
  const target = targetOf(r);
  if (target !== undefined) a[ATTR_GEN_AI_REQUEST_MODEL] = target;
  return a;
}

/**
 * Why an attempt failed, as `error.type`: its error (`ECONNREFUSED`, `UND_ERR_HEADERS_TIMEOUT`), else its
 * status from 400 up (a client span's failure, by the HTTP conventions).
 */
export function attemptErrorType(attempt: UpstreamAttempt): string | undefined {
  if (attempt.error !== undefined) return attempt.error;
  return attempt.status !== undefined && attempt.status >= 400 ? String(attempt.status) : undefined;
}
