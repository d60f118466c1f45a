/**
 * The OpenTelemetry GenAI semantic-convention names the spans carry, and the operation a request path is.
 * The GenAI names are still "development" in @opentelemetry/semantic-conventions (its `incubating` entry
 * point, which may change in a minor release), so they are copied here, as that package advises.
 */

export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_PROVIDER_NAME = 'gen_ai.provider.name';
export const ATTR_GEN_AI_REQUEST_MODEL = 'gen_ai.request.model';
export const ATTR_GEN_AI_REQUEST_STREAM = 'gen_ai.request.stream';
export const ATTR_GEN_AI_RESPONSE_MODEL = 'gen_ai.response.model';
export const ATTR_GEN_AI_RESPONSE_TIME_TO_FIRST_CHUNK = 'gen_ai.response.time_to_first_chunk';
export const ATTR_GEN_AI_USAGE_INPUT_TOKENS = 'gen_ai.usage.input_tokens';
export const ATTR_GEN_AI_USAGE_OUTPUT_TOKENS = 'gen_ai.usage.output_tokens';
export const ATTR_GEN_AI_USAGE_CACHE_READ_INPUT_TOKENS = 'gen_ai.usage.cache_read.input_tokens';

/**
 * `gen_ai.provider.name`, required beside `gen_ai.operation.name` on GenAI spans. It names the telemetry's flavor
 * by the instrumentation's best knowledge, not the company behind the model: the pods speak OpenAI's API, and
 * the usage and operation names come from it, as an OpenAI client's own spans pointed at vLLM say `openai` too;
 * under `/v1/messages` they speak Anthropic's Messages API (vLLM serves it for Claude Code and the Anthropic
 * SDKs), whose clients' spans say `anthropic`.
 */
export function providerOf(path: string): 'openai' | 'anthropic' {
  return path === MESSAGES || path === `${MESSAGES}/` ? 'anthropic' : 'openai';
}

const MESSAGES = '/v1/messages';

/** `gen_ai.operation.name` values for the OpenAI-compatible paths a vLLM pod serves. */
export type GenAiOperation = 'chat' | 'text_completion' | 'embeddings';

const OPERATIONS: ReadonlyMap<string, GenAiOperation> = new Map([
  ['/v1/chat/completions', 'chat'],
  // The Responses API is a chat turn: OpenAI's own instrumentations call it `chat` too.
  ['/v1/responses', 'chat'],
  ['/v1/completions', 'text_completion'],
  ['/v1/embeddings', 'embeddings'],
  // vLLM's Anthropic Messages API: a chat turn, as the Anthropic instrumentations name it.
  [MESSAGES, 'chat'],
]);

/** The GenAI operation of a request path (no query string), or undefined for any other path. */
export function operationOf(path: string): GenAiOperation | undefined {
  return OPERATIONS.get(path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path);
}

/**
 * A GenAI span's name, `{operation} {model}` (`chat llama-3-8b`); without a model, the operation alone;
 * for another path, the HTTP method alone, as the HTTP conventions name a span whose route is unknown.
 */
export function spanNameOf(method: string, path: string, model: string | undefined): string {
  const op = operationOf(path);
  if (op === undefined) return method;
  return model === undefined || model === '' ? op : `${op} ${model}`;
}
