/**
 * The `model` of a multipart/form-data body (vLLM's `/v1/audio/transcriptions` and `/translations`), found by
 * scanning the body for its parts' boundaries: the file part is never copied or decoded.
 */
import { GatewayError } from '../errors.js';
import { ModelFieldError, type ParsedBody } from './extract-model.js';

const MULTIPART = 'multipart/form-data';
const CRLF = Buffer.from('\r\n');
const HEADERS_END = Buffer.from('\r\n\r\n');
/** A part's header block is a line or two; past this it is not one the gateway reads. */
const MAX_PART_HEADER_BYTES = 8 * 1024;
/** The fields routing reads are short: a model name, `true`. */
const MAX_FIELD_BYTES = 4 * 1024;
/** The spellings of true a form field may use for `stream`: what vLLM's form parser (pydantic) takes as true. */
const FORM_TRUE: ReadonlySet<string> = new Set(['true', '1', 'on', 't', 'y', 'yes']);

/**
 * Whether a Content-Type is multipart/form-data. Every other type is told apart by its first letter, so the
 * JSON path pays one character test.
 */
export function isMultipart(contentType: string | undefined): contentType is string {
  if (contentType === undefined || contentType.length < MULTIPART.length || (contentType.charCodeAt(0) | 0x20) !== 0x6d) return false;
  return contentType.slice(0, MULTIPART.length).toLowerCase() === MULTIPART;
}

/**
 * The body's `model` form field (the last one, as the server's form parser keeps it) and where its value sits
 * in the bytes, so a trim or an InferenceModelRewrite replaces it in place; `stream` too (a form field
 * `"true"` streams the transcription), for the streamed request's shorter header timeout.
 * Throws 400 bad_request for a body that is not multipart as its Content-Type says, and 400 missing_model
 * when it has no `model` field.
 */
export function multipartModel(body: Buffer, contentType: string): ParsedBody {
  const boundary = boundaryOf(contentType);
  if (boundary === undefined) throw badMultipart(`its Content-Type has no boundary parameter (${clip(contentType)})`);
  if (body.length === 0) throw badMultipart('the body is empty');
  // Every delimiter but a first one at the very start of the body follows a CRLF (RFC 2046 §5.1.1).
  const delimiter = Buffer.from(`\r\n--${boundary}`, 'latin1');
  let at = body.indexOf(delimiter.subarray(2)) === 0 ? 0 : body.indexOf(delimiter);
  if (at < 0) throw badMultipart(`the boundary \`${clip(boundary)}\` of its Content-Type never occurs in the body`);
  if (at > 0) at += 2;
  let model: { start: number; end: number } | undefined;
  let stream = false;
  for (;;) {
    const afterDelimiter = at + delimiter.length - 2;
    // `--boundary--` closes the body; the epilogue after it is ignored.
    if (body[afterDelimiter] === 0x2d && body[afterDelimiter + 1] === 0x2d) break;
    const lineEnd = body.indexOf(CRLF, afterDelimiter);
    if (lineEnd < 0) throw badMultipart('it ends inside a boundary line');
    const headersEnd = body.indexOf(HEADERS_END, lineEnd);
    if (headersEnd < 0 || headersEnd - lineEnd > MAX_PART_HEADER_BYTES) throw badMultipart(`the part at byte ${at} has no end to its headers within ${MAX_PART_HEADER_BYTES} bytes`);
    const start = headersEnd + 4;
    const next = body.indexOf(delimiter, start);
    if (next < 0) throw badMultipart('it has no closing boundary: the body was cut short');
    const end = next;
    const name = fieldName(body.toString('latin1', lineEnd + 2, headersEnd));
    if (name === 'model') model = { start, end };
    else if (name === 'stream') stream = end - start <= MAX_FIELD_BYTES && FORM_TRUE.has(body.toString('latin1', start, end).trim().toLowerCase());
    at = next + 2;
  }
  if (model === undefined) {
    throw new ModelFieldError('not_found', 'the multipart/form-data body has no `model` field; add the form field `model` naming the model to use (the openai SDK sends its `model` parameter as one); GET /v1/models lists them');
  }
  if (model.end - model.start > MAX_FIELD_BYTES) throw new ModelFieldError('empty', `the \`model\` form field is ${model.end - model.start} bytes long; a model name is at most ${MAX_FIELD_BYTES}`);
  const raw = body.toString('utf8', model.start, model.end);
  if (raw.trim() === '') throw new ModelFieldError('empty', 'the `model` form field is empty; name the model to use');
  return { model: raw.trim(), json: stream ? { model: raw, stream: true } : { model: raw }, modelSpan: model, format: 'multipart' };
}

/** The `boundary` parameter of a multipart Content-Type, unquoted; undefined when absent or not 1-70 characters. */
export function boundaryOf(contentType: string): string | undefined {
  for (const param of contentType.split(';').slice(1)) {
    const eq = param.indexOf('=');
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== 'boundary') continue;
    let v = param.slice(eq + 1).trim();
    if (v.length >= 2 && v.startsWith('"') && v.endsWith('"')) v = v.slice(1, -1);
    return v.length >= 1 && v.length <= 70 ? v : undefined;
  }
  return undefined;
}

/** The `name` of a part's `Content-Disposition: form-data; name="..."`, from its header block. */
function fieldName(headers: string): string | undefined {
  for (const line of headers.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon < 0 || line.slice(0, colon).trim().toLowerCase() !== 'content-disposition') continue;
    // `;\s*name=` and not `filename=`: the parameter must start right after a separator.
    const m = /;\s*name\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(line.slice(colon + 1));
    if (!m) return undefined;
    return m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2];
  }
  return undefined;
}

function badMultipart(why: string): GatewayError {
  return new GatewayError('bad_request', `the request body is not valid multipart/form-data: ${why}. Send the form as the openai SDK does (a file part and a \`model\` field), with the boundary its Content-Type names`);
}

function clip(s: string): string {
  return s.length > 100 ? `${s.slice(0, 100)}...` : s;
}
