/** The model of a whole request body, whatever its shape: a multipart/form-data field, else JSON's top-level `model`. */
import { extractModel, type ParsedBody } from './extract-model.js';
import type { JsonLimits } from './json-limits.js';
import { isMultipart, multipartModel } from './multipart-model.js';

const EMPTY = Buffer.alloc(0);

/**
 * For bodies not parsed as they arrived: the server's multipart uploads, the ext_proc servers' and
 * `explain`'s bodies. Any other Content-Type (or none) is read as JSON, as vLLM reads it.
 */
export function bodyModel(body: Buffer | undefined, contentType: string | undefined, limits?: JsonLimits): ParsedBody {
  // An empty form too: its 400 says the form is empty, not that JSON was expected.
  if (isMultipart(contentType)) return multipartModel(body ?? EMPTY, contentType);
  return extractModel(body ?? EMPTY, limits);
}
