/** Names the request's Content-Type in the 400 for a body whose model could not be read, so a client sees what it sent. */
import { GatewayError } from '../errors.js';
import { ModelFieldError } from './extract-model.js';
import { isMultipart } from './multipart-model.js';

const HOW = 'the gateway reads `model` from a JSON body (application/json) or from the `model` field of a multipart/form-data body (audio uploads)';

/**
 * `err` with the Content-Type named, when it is an invalid_json or missing_model error: a new error of the
 * same kind (a missing model stays a ModelFieldError for the BBR metrics). Anything else, and the multipart
 * errors (whose messages already name it), is returned as it is. Only error paths call this.
 */
export function namingContentType(err: unknown, contentType: string | undefined): unknown {
  if (!(err instanceof GatewayError) || (err.code !== 'invalid_json' && err.code !== 'missing_model') || isMultipart(contentType)) return err;
  const message = `${err.message}${suffix(contentType)}`;
  if (err instanceof ModelFieldError) return new ModelFieldError(err.problem, message);
  return new GatewayError(err.code, message, err.param, err.retry);
}

function suffix(contentType: string | undefined): string {
  if (contentType === undefined) return `. The request has no Content-Type header; ${HOW}`;
  const shown = contentType.length > 100 ? `${contentType.slice(0, 100)}...` : contentType;
  if (contentType.toLowerCase().includes('json')) return ` (Content-Type: ${shown})`;
  return `. The request's Content-Type is \`${shown}\`; ${HOW}`;
}
