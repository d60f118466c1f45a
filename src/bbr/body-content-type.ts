/** Names the request's Content-Type (or Content-Encoding) in the error for a body whose model could not be read, so a client sees what it sent. */
import { GatewayError } from '../errors.js';
import { ModelFieldError } from './extract-model.js';
import { isMultipart } from './multipart-model.js';

const HOW = 'the gateway reads `model` from a JSON body (application/json) or from the `model` field of a multipart/form-data body (audio uploads)';

/**
 * `err` with the Content-Type named, when it is an invalid_json or missing_model error: a new error of the
 * same kind (a missing model stays a ModelFieldError for the BBR metrics). Anything else, and the multipart
 * errors (whose messages already name it), is returned as it is. Only error paths call this.
 *
 * A body with a Content-Encoding other than identity is compressed and cannot be read at all: its error becomes
 * 415 unsupported_content_encoding naming the header. Checked only here, once the body failed, so requests that
 * read fine pay nothing for it (a compressed body never parses: gzip starts 0x1f 0x8b, zlib 0x78).
 */
export function namingContentType(err: unknown, contentType: string | undefined, contentEncoding?: string): unknown {
  if (contentEncoding !== undefined && err instanceof GatewayError && UNREADABLE.has(err.code) && !IDENTITY.test(contentEncoding)) {
    const shown = contentEncoding.length > 100 ? `${contentEncoding.slice(0, 100)}...` : contentEncoding;
    return new GatewayError(
      'unsupported_content_encoding',
      `the request body is sent with Content-Encoding: ${shown}, and the gateway reads only uncompressed bodies (it must read \`model\` to route); send the body uncompressed, without a Content-Encoding header`,
    );
  }
  if (!(err instanceof GatewayError) || (err.code !== 'invalid_json' && err.code !== 'missing_model') || isMultipart(contentType)) return err;
  const message = `${err.message}${suffix(contentType)}`;
  if (err instanceof ModelFieldError) return new ModelFieldError(err.problem, message);
  return new GatewayError(err.code, message, err.param, err.retry);
}

/** The errors a compressed body gets when read as JSON or multipart. */
const UNREADABLE: ReadonlySet<string> = new Set(['invalid_json', 'missing_model', 'bad_request']);
const IDENTITY = /^\s*identity\s*$/i;

function suffix(contentType: string | undefined): string {
  if (contentType === undefined) return `. The request has no Content-Type header; ${HOW}`;
  const shown = contentType.length > 100 ? `${contentType.slice(0, 100)}...` : contentType;
  if (contentType.toLowerCase().includes('json')) return ` (Content-Type: ${shown})`;
  return `. The request's Content-Type is \`${shown}\`; ${HOW}`;
}
