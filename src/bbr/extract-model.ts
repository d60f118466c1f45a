/** Reads the request body as JSON and takes its top-level `model`, as GIE's body-based router does. */
import { GatewayError } from '../errors.js';
import { JsonBodyParser, parseJsonBody, type JsonBody } from './json-body-parser.js';
import type { ByteSpan } from './json-value-builder.js';
import { DEFAULT_JSON_LIMITS, notJson, type JsonLimits } from './json-limits.js';

export interface ParsedBody {
  /** The `model` as sent, trimmed (GIE trims before lookup). */
  model: string;
  json: Record<string, unknown>;
  /** Where the `model` value sits in the body bytes, so a rewrite can replace it without serializing the body again. */
  modelSpan?: ByteSpan;
  /** A multipart/form-data body (src/bbr/multipart-model.ts): `modelSpan` holds the field's raw value, unquoted. */
  format?: 'multipart';
}

/** Parses a whole body (within `limits`) and takes its model; the server parses as the body arrives and calls {@link modelOf}. */
export function extractModel(body: Buffer, limits: JsonLimits = DEFAULT_JSON_LIMITS): ParsedBody {
  return modelOf(parseJsonBody(body, limits));
}

/** The model of a parsed body; `undefined` is an empty body. */
export function modelOf(parsed: JsonBody | undefined): ParsedBody {
  if (parsed === undefined) throw notJson('the body is empty');
  const json = parsed.value;
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new GatewayError('invalid_json', 'request body must be a JSON object with a "model" field');
  }
  const obj = json as Record<string, unknown>;
  const model = obj.model;
  if (model === undefined) throw new ModelFieldError('not_found', 'request body has no "model" field; name the model to use, e.g. "model": "google/gemma-2b-it" (GET /v1/models lists them)');
  if (typeof model !== 'string' || model.trim() === '') {
    throw new ModelFieldError('empty', `"model" must be a non-empty string, got ${describe(model)}`);
  }
  return { model: model.trim(), json: obj, ...(parsed.modelSpan ? { modelSpan: parsed.modelSpan } : {}) };
}

/**
 * `missing_model`, saying whether the field is absent or present but empty (or not a string): the one error
 * code to clients, two counters for GIE's BBR metrics (`bbr_body_field_not_found_total`, `_empty_total`).
 */
export class ModelFieldError extends GatewayError {
  readonly problem: 'not_found' | 'empty';

  constructor(problem: 'not_found' | 'empty', message: string) {
    super('missing_model', message, 'model');
    this.problem = problem;
  }
}

/** Which problem an error reports with the body's `model` field, if it is one (for `RequestRecord.modelField`). */
export function modelFieldProblem(err: unknown): 'not_found' | 'empty' | undefined {
  return err instanceof ModelFieldError ? err.problem : undefined;
}

/** A short description: the value itself when small, never a whole (possibly huge) structure. */
function describe(v: unknown): string {
  if (Array.isArray(v)) return `an array of ${v.length} item(s)`;
  if (v !== null && typeof v === 'object') return 'an object';
  return JSON.stringify(v);
}

/**
 * The body with its top-level model replaced (a trimmed name, an InferenceModelRewrite): spliced into the bytes
 * where the parser found it, so a large body is copied once rather than serialized again; without a span
 * (a body parsed elsewhere), serialized again.
 */
export function withModel(body: Buffer | undefined, parsed: ParsedBody, model: string): Buffer {
  // A form field's value is the name's bytes as they are, no JSON quoting.
  if (parsed.format === 'multipart' && body && parsed.modelSpan) return Buffer.concat([body.subarray(0, parsed.modelSpan.start), Buffer.from(model), body.subarray(parsed.modelSpan.end)]);
  const span = parsed.modelSpan ?? (body ? modelSpanOf(body) : undefined);
  if (body && span) return Buffer.concat([body.subarray(0, span.start), Buffer.from(JSON.stringify(model)), body.subarray(span.end)]);
  return Buffer.from(JSON.stringify({ ...parsed.json, model }));
}

/** No bound: the body was already parsed within the gateway's limits; this pass only finds where `model` sits. */
const UNBOUNDED: JsonLimits = { maxDepth: Number.MAX_SAFE_INTEGER, maxValues: Number.MAX_SAFE_INTEGER };

/**
 * Where the top-level `model` value sits in a body that was parsed the quick way (no span kept): the
 * incremental parser reads it again, which only a rewrite or a trimmed model name needs.
 */
function modelSpanOf(body: Buffer): ByteSpan | undefined {
  const p = new JsonBodyParser(UNBOUNDED);
  p.write(body);
  return p.end()?.modelSpan;
}
