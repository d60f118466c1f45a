/** The bounds on a request body's JSON (nesting depth, number of values) and the 400s that name them. */
import { GatewayError } from '../errors.js';

/**
 * What a body may hold before body-based routing refuses it. Both bound the work and memory the gateway
 * spends on a body whatever its shape: depth bounds the stack any walk of it needs, values bound the
 * objects parsing it allocates (each at most ~80 bytes of heap, besides the text of its strings).
 */
export interface JsonLimits {
  /** Deepest nesting of arrays and objects; the top-level object is depth 1. */
  maxDepth: number;
  /** Most values in one body: strings, numbers, booleans, nulls, arrays and objects, object keys included. */
  maxValues: number;
}

/**
 * Above any real request: an OpenAI chat request nests 5-7 levels (tool JSON schemas a few more); the most
 * values come with token ids: a 256k-token context as a token-id prompt, or an embeddings batch of 300k
 * tokens (OpenAI's cap per request). Held there by cost: 16 concurrent worst-case bodies at these limits
 * keep the gateway's /healthz and RSS within bounds (bench/parse-attack.ts, docs/benchmarks.md), where a
 * million values of the costliest kinds (distinct keys, empty objects) did not.
 */
export const DEFAULT_JSON_LIMITS: JsonLimits = { maxDepth: 128, maxValues: 500_000 };

/** The highest `--max-json-depth` accepted: JSON.stringify (model rewrites) recurses and overflows the stack past a few thousand. */
export const MAX_JSON_DEPTH_FLAG = 1000;

export function tooDeep(limits: JsonLimits, at: number): GatewayError {
  return new GatewayError(
    'invalid_json',
    `request body nests arrays and objects more than ${limits.maxDepth} levels deep (at byte ${at}); the gateway's limit is --max-json-depth ${limits.maxDepth}. Send a flatter request, or raise --max-json-depth`,
  );
}

export function tooManyValues(limits: JsonLimits, at: number): GatewayError {
  return new GatewayError(
    'invalid_json',
    `request body holds more than ${limits.maxValues} JSON values (strings, numbers, booleans, nulls, arrays, objects and object keys; at byte ${at}); the gateway's limit is --max-json-values ${limits.maxValues}. Send a smaller request, or raise --max-json-values`,
  );
}

export function notJson(why: string): GatewayError {
  return new GatewayError('invalid_json', `request body is not valid JSON (${why}); send an OpenAI request such as {"model": "...", "messages": [...]}`);
}
