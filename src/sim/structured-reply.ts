/**
 * `response_format` as vLLM's structured outputs honour it: `json_object` and `json_schema` force the reply to be
 * JSON (of that schema), which clients parse. The simulator writes the smallest JSON value that fits, instead of its
 * canned prose.
 */
import type { Json } from './request-fields.js';
import { isObject } from './request-fields.js';
import { badRequest } from './vllm-error.js';

/** vLLM's `ResponseFormat.type` values (protocol.py). */
const FORMAT_TYPES = ['text', 'json_object', 'json_schema', 'structural_tag'] as const;

/** How deep a schema is followed; deeper values are null, so a recursive or huge schema stays bounded. */
const MAX_DEPTH = 16;

/** Text a string value says when its schema names no enum, const or format. */
const SAMPLE_STRING = 'text';

/**
 * The JSON text `response_format` forces, or null when it leaves the reply free (absent, `text`,
 * `structural_tag`). Throws vLLM's 400 for a format its request model refuses.
 */
export function structuredReply(body: Json): string | null {
  const format = body.response_format;
  if (format === undefined || format === null) return null;
  if (!isObject(format) || typeof format.type !== 'string' || !(FORMAT_TYPES as readonly string[]).includes(format.type)) {
    const got = isObject(format) ? JSON.stringify(format.type ?? null) : JSON.stringify(format);
    throw badRequest(`\`response_format.type\` must be one of ${FORMAT_TYPES.join(', ')}; got ${got}`, 'response_format');
  }
  if (format.type === 'json_object') return '{}';
  if (format.type !== 'json_schema') return null;
  const spec = format.json_schema;
  if (!isObject(spec) || typeof spec.name !== 'string') {
    throw badRequest('`response_format.json_schema` must be an object with a string `name` (and the `schema`)', 'response_format');
  }
  return sampleJson(spec.schema ?? {});
}

/**
 * The Responses API's `text.format` (`{type: "json_schema", name, schema}`, `{type: "json_object"}`), as vLLM maps
 * it onto the same structured outputs: the JSON text it forces, or null when the reply is free.
 */
export function textFormatReply(body: Json): string | null {
  const text = body.text;
  if (text === undefined || text === null) return null;
  const format = isObject(text) ? text.format : undefined;
  if (format === undefined || format === null) return null;
  if (!isObject(format) || !['text', 'json_object', 'json_schema'].includes(String(format.type))) {
    throw badRequest(`\`text.format.type\` must be one of text, json_object, json_schema; got ${JSON.stringify(isObject(format) ? format.type ?? null : format)}`, 'text');
  }
  if (format.type === 'json_object') return '{}';
  if (format.type === 'text') return null;
  if (typeof format.name !== 'string') throw badRequest('`text.format` of type json_schema must have a string `name` (and the `schema`)', 'text');
  return sampleJson(format.schema ?? {});
}

/** The smallest JSON value of a JSON schema, as text. */
export function sampleJson(schema: unknown): string {
  return JSON.stringify(sampleOf(schema, 0));
}

/** The smallest value of `schema`: its const or first enum value, else the first of anyOf/oneOf, else by type. */
function sampleOf(schema: unknown, depth: number): unknown {
  if (!isObject(schema) || depth > MAX_DEPTH) return null;
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  if ('default' in schema) return schema.default;
  for (const key of ['anyOf', 'oneOf'] as const) {
    const options = schema[key];
    if (Array.isArray(options) && options.length > 0) return sampleOf(options[0], depth + 1);
  }
  if (Array.isArray(schema.allOf) && schema.allOf.length > 0) return sampleOf(Object.assign({}, ...schema.allOf.filter(isObject)), depth + 1);
  const type = Array.isArray(schema.type) ? schema.type.find((t) => t !== 'null') ?? schema.type[0] : schema.type;
  switch (type) {
    case 'string':
      return stringOf(schema);
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? (type === 'integer' ? Math.ceil(schema.minimum) : schema.minimum) : 0;
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array': {
      const min = typeof schema.minItems === 'number' ? Math.min(schema.minItems, 100) : 0;
      return Array.from({ length: min }, () => sampleOf(schema.items, depth + 1));
    }
    default:
      return isObject(schema.properties) || type === 'object' ? objectOf(schema, depth) : null;
  }
}

/** Every property the schema lists (required ones are among them), each its smallest value. */
function objectOf(schema: Json, depth: number): Record<string, unknown> {
  const properties = isObject(schema.properties) ? schema.properties : {};
  const out: Record<string, unknown> = {};
  for (const [name, sub] of Object.entries(properties)) out[name] = sampleOf(sub, depth + 1);
  const required = Array.isArray(schema.required) ? schema.required.filter((r): r is string => typeof r === 'string') : [];
  for (const name of required) if (!(name in out)) out[name] = null;
  return out;
}

function stringOf(schema: Json): string {
  if (schema.format === 'date-time') return '2025-01-01T00:00:00Z';
  if (schema.format === 'date') return '2025-01-01';
  if (schema.format === 'email') return 'user@example.com';
  if (schema.format === 'uri') return 'https://example.com';
  const min = typeof schema.minLength === 'number' ? Math.min(schema.minLength, 1000) : 0;
  const max = typeof schema.maxLength === 'number' ? schema.maxLength : Number.MAX_SAFE_INTEGER;
  return SAMPLE_STRING.padEnd(min, 'x').slice(0, max);
}
