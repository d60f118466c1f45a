/**
 * An external endpoint picker's answer to the response headers (`response_headers`), as Envoy applies it before
 * the client gets them: its header mutation (llm-d's session-affinity token, GIE's conformance
 * `x-conformance-test-served-endpoint`), or an ImmediateResponse that replaces the answer.
 */
import { validateHeaderName, validateHeaderValue } from 'node:http';
import type { HeaderAppendAction, HeaderValue, ProcessingResponse } from '../../envoy/processing-messages.js';
import { immediate, type PickerAnswer } from './picker-answer.js';
import { PickerUnavailable } from './picker-unavailable.js';
import { GATEWAY_OWNED_HEADERS } from './gateway-owned-headers.js';

/**
 * One header the picker sets, with Envoy's append action. Unset, Envoy's ext_proc replaces the header unless the
 * deprecated `append` is true: the proto's default action (APPEND_IF_EXISTS_OR_ADD) is the zero value, not sent,
 * so ext_proc cannot tell it from none. GIE's lightweight EPP sends every response header back so, unchanged.
 */
export interface SetHeader {
  name: string;
  value: string;
  action: HeaderAppendAction | undefined;
}

export type ResponseChanges =
  | { kind: 'headers'; set: SetHeader[]; remove: string[] }
  | Extract<PickerAnswer, { kind: 'immediate' }>
  /**
   * The picker gave no answer (stream ended or failed, message timeout: `why`), or the request ended first (no
   * `why`: nobody waits for it): the upstream's answer passes as it came.
   */
  | { kind: 'unchanged'; why?: string };


/**
 * Reads one of the picker's messages while its answer to the response headers is awaited: the changes, or
 * undefined for a message that belongs to the request's phase (a late answer to trailers) and is skipped.
 * Throws PickerUnavailable on an answer outside the protocol (to the response body before its headers).
 */
export function readResponseAnswer(r: ProcessingResponse): ResponseChanges | undefined {
  if (r.immediate_response) return immediate(r.immediate_response);
  switch (r.response) {
    case 'response_headers': {
      const m = r.response_headers?.response?.header_mutation;
      return {
        kind: 'headers',
        set: (m?.set_headers ?? []).map((o) => ({ name: o.header.key.toLowerCase(), value: headerValue(o.header), action: o.append_action ?? (o.append?.value === true ? 'APPEND_IF_EXISTS_OR_ADD' : undefined) })),
        remove: (m?.remove_headers ?? []).map((n) => n.toLowerCase()),
      };
    }
    case 'request_headers':
    case 'request_body':
    case 'request_trailers':
      return undefined;
    default:
      throw new PickerUnavailable(`answered ${r.response ?? 'with an empty ProcessingResponse'} where the answer to the response headers was expected`);
  }
}

function headerValue(h: HeaderValue): string {
  return h.raw_value !== undefined && h.raw_value.length > 0 ? h.raw_value.toString('utf8') : (h.value ?? '');
}

/** What applying the changes did: the status to answer with, and the changes skipped (named for the log). */
export interface AppliedChanges {
  status: number;
  skipped: string[];
}

/**
 * Applies header changes to `list` (a flat `[name, value, ...]` with lower-case names, as `res.writeHead` takes
 * it) in Envoy's order: removals, then each set with its append action. `:status` may be set to another status
 * (200-599, not 204 or 304, which have no body), as Envoy allows; other pseudo-headers, the gateway's own headers, and names or values Node would
 * refuse to write are skipped, never thrown.
 */
export function applyResponseChanges(list: string[], changes: Extract<ResponseChanges, { kind: 'headers' }>, status: number): AppliedChanges {
  const skipped: string[] = [];
  for (const name of changes.remove) {
    if (name.startsWith(':') || GATEWAY_OWNED_HEADERS.has(name)) skipped.push(name);
    else removeAll(list, name);
  }
  for (const h of changes.set) {
    if (h.name === ':status') {
      const s = /^\d{3}$/.test(h.value) ? Number(h.value) : NaN;
      // 204 and 304 have no body: the endpoint's answer, and its length, would be dropped on the way.
      if (s >= 200 && s <= 599 && s !== 204 && s !== 304) status = s;
      else skipped.push(`:status ${JSON.stringify(h.value)}`);
      continue;
    }
    if (h.name.startsWith(':') || GATEWAY_OWNED_HEADERS.has(h.name) || !writable(h.name, h.value)) {
      // A gateway's header sent back as it is changes nothing (GIE's lightweight EPP returns every header so):
      // not a change refused, nothing to warn of.
      if (!isUnchanged(list, h.name, h.value)) skipped.push(h.name);
      continue;
    }
    const exists = indexOfName(list, h.name) >= 0;
    switch (h.action ?? 'OVERWRITE_IF_EXISTS_OR_ADD') {
      case 'APPEND_IF_EXISTS_OR_ADD':
        list.push(h.name, h.value);
        break;
      case 'ADD_IF_ABSENT':
        if (!exists) list.push(h.name, h.value);
        break;
      case 'OVERWRITE_IF_EXISTS_OR_ADD':
        overwrite(list, h.name, h.value);
        break;
      case 'OVERWRITE_IF_EXISTS':
        if (exists) overwrite(list, h.name, h.value);
        break;
    }
  }
  return { status, skipped };
}

function writable(name: string, value: string): boolean {
  try {
    validateHeaderName(name);
    validateHeaderValue(name, value);
    return true;
  } catch {
    return false;
  }
}

/** The header is in the list once, with this value. */
function isUnchanged(list: readonly string[], name: string, value: string): boolean {
  const i = indexOfName(list, name);
  return i >= 0 && list[i + 1] === value && indexOfName(list.slice(i + 2), name) < 0;
}

function indexOfName(list: readonly string[], name: string): number {
  for (let i = 0; i < list.length; i += 2) if (list[i] === name) return i;
  return -1;
}

/** The header's first value replaced where it stands (others of its name dropped), else added last. */
function overwrite(list: string[], name: string, value: string): void {
  const i = indexOfName(list, name);
  if (i < 0) {
    list.push(name, value);
    return;
  }
  const rest = list.splice(i + 2);
  list[i + 1] = value;
  removeAll(rest, name);
  list.push(...rest);
}

function removeAll(list: string[], name: string): void {
  let kept = 0;
  for (let i = 0; i < list.length; i += 2) {
    if (list[i] === name) continue;
    list[kept++] = list[i]!;
    list[kept++] = list[i + 1]!;
  }
  list.length = kept;
}
