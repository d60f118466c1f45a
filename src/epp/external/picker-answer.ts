/**
 * Reads an external endpoint picker's answers to one request, in whatever order and shape the ext_proc modes
 * allow (FULL_DUPLEX_STREAMED, as GIE's and llm-d's EPPs answer, or one answer per message, as GIE's
 * lightweight EPP does), into one decision: the endpoints it chose, or the response it sent instead.
 */
import { DESTINATION_ENDPOINT_HEADER } from '../../bbr/routing-headers.js';
import type { CommonResponse, HeaderMutation, ProcessingResponse } from '../../envoy/processing-messages.js';
import { extProcPackageDefinition } from '../../envoy/protos.js';
import { fromStruct } from '../../envoy/struct-value.js';
import { LB_NAMESPACE } from './picker-messages.js';
import { PickerUnavailable } from './picker-unavailable.js';

/** What the picker decided for the request. */
export type PickerAnswer =
  | {
      kind: 'route';
      /** `ip:port`, primary first, then the fallbacks, as the picker listed them. */
      endpoints: string[];
      /** Where the list came from, for messages: dynamic metadata or the header. */
      source: string;
      /** The picker's changes to the request headers (its pick header included, as Envoy forwards it). */
      headers: { set: Map<string, string>; remove: string[] };
      /** The body to send instead of the client's; undefined keeps it. */
      body?: Buffer;
      /** The picker asked (`mode_override`) not to be sent the response headers: nothing is reported or awaited. */
      skipResponseHeaders?: true;
    }
  | {
      /** An ImmediateResponse: the picker answers the client itself (429 shed, 503 nothing eligible, 400, ...). */
      kind: 'immediate';
      status: number;
      headers: [string, string][];
      body: Buffer;
    };

/**
 * Collects the answers of one stream. The decision is complete when the headers were answered and, for a
 * request with a body, the body too: a streamed body up to its end_of_stream, or one plain answer.
 */
export class AnswerCollector {
  readonly #expectBody: boolean;
  #headersDone = false;
  #bodyDone = false;
  readonly #set = new Map<string, string>();
  readonly #remove: string[] = [];
  #metadataPick: string | undefined;
  #streamed: Buffer[] | undefined;
  #replaced: Buffer | undefined;
  #skipResponseHeaders = false;

  constructor(expectBody: boolean) {
    this.#expectBody = expectBody;
  }

  /** Takes one answer: the decision once it is complete, else undefined. Throws PickerUnavailable on an answer outside the protocol. */
  add(r: ProcessingResponse): PickerAnswer | undefined {
    if (r.immediate_response) return immediate(r.immediate_response);
    if (r.dynamic_metadata) this.#readMetadata(r);
    // Envoy reads mode_override on a headers answer only.
    const mode = r.response === 'request_headers' ? r.mode_override?.response_header_mode : undefined;
    if (mode !== undefined) this.#skipResponseHeaders = mode === 'SKIP';
    switch (r.response) {
      case 'request_headers':
        this.#apply(r.request_headers?.response);
        this.#headersDone = true;
        break;
      case 'request_body':
        this.#onBody(r.request_body?.response);
        break;
      case 'request_trailers':
        break;
      default:
        throw new PickerUnavailable(`answered ${r.response ?? 'with an empty ProcessingResponse'} before the request was decided`);
    }
    if (!this.#headersDone || (this.#expectBody && !this.#bodyDone)) return undefined;
    return this.#decision();
  }

  #readMetadata(r: ProcessingResponse): void {
    let lb;
    try {
      lb = fromStruct(r.dynamic_metadata)[LB_NAMESPACE];
    } catch (e) {
      throw new PickerUnavailable(`sent unreadable dynamic_metadata: ${(e as Error).message}`);
    }
    const v = lb !== null && typeof lb === 'object' && !Array.isArray(lb) ? lb[DESTINATION_ENDPOINT_HEADER] : undefined;
    if (typeof v === 'string' && v.trim() !== '') this.#metadataPick = v;
  }

  #onBody(common: CommonResponse | undefined): void {
    this.#apply(common);
    const m = common?.body_mutation;
    if (m?.streamed_response) {
      (this.#streamed ??= []).push(m.streamed_response.body ?? Buffer.alloc(0));
      if (m.streamed_response.end_of_stream === true) this.#bodyDone = true;
    } else if (m?.body !== undefined) {
      this.#replaced = m.body;
      this.#bodyDone = true;
    } else if (m?.clear_body === true) {
      this.#replaced = Buffer.alloc(0);
      this.#bodyDone = true;
    } else if (this.#streamed === undefined) {
      // A plain answer to the body: unchanged (GIE's lightweight EPP answers every chunk so).
      this.#bodyDone = true;
    }
  }

  #apply(common: CommonResponse | undefined): void {
    const m: HeaderMutation | undefined = common?.header_mutation;
    for (const name of m?.remove_headers ?? []) {
      const lower = name.toLowerCase();
      this.#set.delete(lower);
      this.#remove.push(lower);
    }
    for (const o of m?.set_headers ?? []) {
      const key = o.header.key.toLowerCase();
      const value = o.header.raw_value !== undefined && o.header.raw_value.length > 0 ? o.header.raw_value.toString('utf8') : (o.header.value ?? '');
      const prior = this.#set.get(key);
      this.#set.set(key, prior !== undefined && o.append_action === 'APPEND_IF_EXISTS_OR_ADD' ? `${prior},${value}` : prior !== undefined && o.append_action === 'ADD_IF_ABSENT' ? prior : value);
    }
  }

  #decision(): PickerAnswer {
    const header = this.#set.get(DESTINATION_ENDPOINT_HEADER);
    const list = this.#metadataPick ?? header;
    if (list === undefined) {
      throw new PickerUnavailable(`answered without choosing an endpoint: neither dynamic metadata ${LB_NAMESPACE} ${DESTINATION_ENDPOINT_HEADER} nor header ${DESTINATION_ENDPOINT_HEADER} was set, and it sent no immediate response`);
    }
    const endpoints = list.split(',').map((s) => s.trim()).filter((s) => s !== '');
    const source = this.#metadataPick !== undefined ? `dynamic metadata ${LB_NAMESPACE} ${DESTINATION_ENDPOINT_HEADER}` : `header ${DESTINATION_ENDPOINT_HEADER}`;
    const body = this.#replaced ?? (this.#streamed ? (this.#streamed.length === 1 ? this.#streamed[0]! : Buffer.concat(this.#streamed)) : undefined);
    return {
      kind: 'route',
      endpoints,
      source,
      headers: { set: this.#set, remove: this.#remove },
      ...(body !== undefined ? { body } : {}),
      ...(this.#skipResponseHeaders ? { skipResponseHeaders: true as const } : {}),
    };
  }
}

/** An ImmediateResponse as the client will get it: its status (500 when unset or unknown), headers and body. */
export function immediate(ir: NonNullable<ProcessingResponse['immediate_response']>): Extract<PickerAnswer, { kind: 'immediate' }> {
  const headers: [string, string][] = [];
  for (const o of ir.headers?.set_headers ?? []) {
    const value = o.header.raw_value !== undefined && o.header.raw_value.length > 0 ? o.header.raw_value.toString('utf8') : (o.header.value ?? '');
    headers.push([o.header.key.toLowerCase(), value]);
  }
  return { kind: 'immediate', status: httpStatus(ir.status?.code), headers, body: ir.body ?? Buffer.alloc(0) };
}

let statusNumbers: Map<string, number> | undefined;

/**
 * An envoy.type.v3.StatusCode as decoded (its name, `TooManyRequests`) or as a number, to an HTTP status. An
 * unset or unknown code is 500: the picker failed to say what went wrong.
 */
export function httpStatus(code: number | string | undefined): number {
  let n = typeof code === 'number' ? code : undefined;
  if (typeof code === 'string') {
    statusNumbers ??= new Map(
      ((extProcPackageDefinition()['envoy.type.v3.StatusCode'] as unknown as { type: { value: { name: string; number: number }[] } }).type.value).map((v) => [v.name, v.number]),
    );
    n = /^\d+$/.test(code) ? Number(code) : statusNumbers.get(code);
  }
  return n !== undefined && n >= 200 && n <= 599 ? n : 500;
}
