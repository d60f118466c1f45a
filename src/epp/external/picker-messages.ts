/**
 * The messages infergate sends an external endpoint picker, as Envoy's ext_proc filter does for GIE's EPP
 * protocol (docs/proposals/004-endpoint-picker-protocol): the request headers with the subset hint, the whole
 * body in chunks with end_of_stream on the last, and the response headers with the endpoint that served.
 */
import { DESTINATION_ENDPOINT_SERVED_HEADER } from '../../bbr/routing-headers.js';
import type { HeaderValue, Metadata, ProcessingRequest } from '../../envoy/processing-messages.js';
import { SUBSET_HINT_KEY, SUBSET_HINT_NAMESPACE } from '../subset-hint.js';
import { STREAMED_CHUNK_BYTES } from '../../envoy/streamed-body.js';
import { toStruct } from '../../envoy/struct-value.js';
import { passResponseHeaders } from '../../upstream/response-headers.js';

/** The namespace of the pick in the picker's dynamic metadata, and of the served endpoint infergate reports back. */
export const LB_NAMESPACE = 'envoy.lb';

/** One request as the picker is asked about it. */
export interface PickerRequest {
  method: string;
  /** Path and query, as the client sent them (`:path`). */
  path: string;
  /** `:authority`: the client's Host. */
  authority: string | undefined;
  /** The headers going upstream (client headers, body-based routing's, `x-request-id`, `x-forwarded-*`). */
  headers: Readonly<Record<string, string | string[]>>;
  /** The whole body; undefined or empty for a request without one. */
  body: Buffer | undefined;
  /** The pool's endpoints the picker must choose among (`envoy.lb.subset_hint`), `ip:port`. */
  subset: readonly string[];
}

/**
 * `request_headers`, then the body as `request_body` chunks of at most 62,000 bytes (GIE's chunk size: a
 * gRPC server's default 4 MiB message limit never sees the whole of a large body at once), the last with
 * end_of_stream. The first message says the modes infergate works in (`protocol_config`): the picker holds its
 * headers answer until it has the body, and sees no response body. The hint goes with the headers and with
 * the last body chunk, where GIE's and llm-d's EPPs read request metadata.
 */
export function requestMessages(req: PickerRequest): ProcessingRequest[] {
  const metadata: Metadata = { filter_metadata: { [SUBSET_HINT_NAMESPACE]: toStruct({ [SUBSET_HINT_KEY]: [...req.subset] }) } };
  const body = req.body !== undefined && req.body.length > 0 ? req.body : undefined;
  const headers: HeaderValue[] = [header(':method', req.method), header(':scheme', 'http'), header(':path', req.path)];
  if (req.authority !== undefined) headers.push(header(':authority', req.authority));
  for (const [name, value] of Object.entries(req.headers)) {
    // The Host travels as :authority, as Envoy sends it.
    if (name === 'content-length' || name === 'host') continue;
    if (typeof value === 'string') headers.push(header(name, value));
    else for (const v of value) headers.push(header(name, v));
  }
  if (body) headers.push(header('content-length', String(body.length)));
  const out: ProcessingRequest[] = [
    {
      request_headers: { headers: { headers }, ...(body ? {} : { end_of_stream: true }) },
      metadata_context: metadata,
      protocol_config: { request_body_mode: 'FULL_DUPLEX_STREAMED', response_body_mode: 'NONE' },
    },
  ];
  if (!body) return out;
  for (let off = 0; off < body.length; off += STREAMED_CHUNK_BYTES) {
    const last = off + STREAMED_CHUNK_BYTES >= body.length;
    const chunk = body.subarray(off, Math.min(body.length, off + STREAMED_CHUNK_BYTES));
    out.push(last ? { request_body: { body: chunk, end_of_stream: true }, metadata_context: metadata } : { request_body: { body: chunk } });
  }
  return out;
}

/**
 * `response_headers` once the endpoint answered: its status and headers, and the endpoint that served in
 * `envoy.lb` `x-gateway-destination-endpoint-served` (the protocol's Destination Endpoint Served). The body
 * follows the client, not the picker (response_body_mode NONE), so the headers end nothing: the stream's
 * half-close ends the exchange.
 */
export function responseHeadersMessage(status: number, rawHeaders: readonly Buffer[], served: string): ProcessingRequest {
  const headers: HeaderValue[] = [header(':status', String(status))];
  const { list } = passResponseHeaders(rawHeaders);
  // The headers as the client gets them, hop-by-hop ones dropped, as Envoy's codec drops them before its filters:
  // a picker that sends them all back (GIE's lightweight EPP) then asks to change none of the gateway's.
  for (let i = 0; i + 1 < list.length; i += 2) headers.push({ key: list[i]!, raw_value: Buffer.from(list[i + 1]!, 'latin1') });
  return {
    response_headers: { headers: { headers } },
    metadata_context: { filter_metadata: { [LB_NAMESPACE]: toStruct({ [DESTINATION_ENDPOINT_SERVED_HEADER]: served }) } },
  };
}

function header(key: string, value: string): HeaderValue {
  return { key, raw_value: Buffer.from(value, 'utf8') };
}
