/** A client that opens with the HTTP/2 connection preface (h2c with prior knowledge): told in HTTP/2 to use HTTP/1.1. */

/** RFC 9113 §7: the error code that asks the client to retry over HTTP/1.1. */
const HTTP_1_1_REQUIRED = 0x0d;

/** The reason, in the GOAWAY's debug data and the request's record. */
export const H2_NOT_SERVED = 'HTTP/2 with prior knowledge (h2c) is not served on this port; send HTTP/1.1';

/**
 * The server's connection preface (an empty SETTINGS frame, RFC 9113 §3.4), then GOAWAY with HTTP_1_1_REQUIRED
 * and the reason as its debug data (§6.8): what an HTTP/2 client can read. An HTTP/1.1 answer is bytes it cannot
 * frame (curl: "Error in the HTTP2 framing layer"); this one it reports, and curl retries the request over
 * HTTP/1.1.
 */
export function h2Refusal(): Buffer {
  const settings = Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]);
  const debug = Buffer.from(H2_NOT_SERVED, 'latin1');
  const goaway = Buffer.alloc(9 + 8 + debug.length);
  goaway.writeUIntBE(8 + debug.length, 0, 3);
  goaway[3] = 0x07;
  // Flags 0, stream 0, last stream id 0: no stream was processed.
  goaway.writeUInt32BE(HTTP_1_1_REQUIRED, 13);
  debug.copy(goaway, 17);
  return Buffer.concat([settings, goaway]);
}
