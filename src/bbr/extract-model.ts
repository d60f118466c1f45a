/** Reads the request body as JSON and takes its top-level `model`, as GIE's body-based router does. */
import { GatewayError } from '../errors.js';

export interface ParsedBody {
  /** The `model` as sent, trimmed (GIE trims before lookup). */
  model: string;
  json: Record<string, unknown>;
}

export function extractModel(body: Buffer): ParsedBody {
  let json: unknown;
  try {
    json = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new GatewayError('invalid_json', `request body is not valid JSON (${(e as Error).message}); send an OpenAI request such as {"model": "...", "messages": [...]}`);
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    throw new GatewayError('invalid_json', 'request body must be a JSON object with a "model" field');
  }
  const obj = json as Record<string, unknown>;
  const model = obj.model;
  if (model === undefined) throw new GatewayError('missing_model', 'request body has no "model" field; name the model to use, e.g. "model": "google/gemma-2b-it" (GET /v1/models lists them)', 'model');
  if (typeof model !== 'string' || model.trim() === '') {
    throw new GatewayError('missing_model', `"model" must be a non-empty string, got ${JSON.stringify(model)}`, 'model');
  }
  return { model: model.trim(), json: obj };
}
