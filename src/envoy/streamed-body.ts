/** The body as FULL_DUPLEX_STREAMED answers carry it: chunks of at most 62,000 bytes, as GIE's servers send. */
import type { ProcessingResponse } from './processing-messages.js';

/** GIE's limit, under the 64 KiB that Envoy's default buffers and gRPC frames handle without splitting. */
export const STREAMED_CHUNK_BYTES = 62_000;

/**
 * The `request_body` (or `response_body`) answers that re-send `body`. `endOfStream` marks the last chunk;
 * an empty body still gets one (empty) chunk when it ends the stream, so the data plane sees the end.
 */
export function streamedBodyResponses(body: Buffer, endOfStream: boolean, phase: 'request_body' | 'response_body' = 'request_body'): ProcessingResponse[] {
  const out: ProcessingResponse[] = [];
  for (let off = 0; off < body.length; off += STREAMED_CHUNK_BYTES) {
    const chunk = body.subarray(off, Math.min(body.length, off + STREAMED_CHUNK_BYTES));
    const last = off + STREAMED_CHUNK_BYTES >= body.length;
    out.push(streamedChunk(chunk, endOfStream && last, phase));
  }
  if (out.length === 0 && endOfStream) out.push(streamedChunk(Buffer.alloc(0), true, phase));
  return out;
}

export function streamedChunk(body: Buffer, endOfStream: boolean, phase: 'request_body' | 'response_body'): ProcessingResponse {
  const streamed = endOfStream ? { body, end_of_stream: true } : { body };
  return { [phase]: { response: { body_mutation: { streamed_response: streamed } } } };
}
