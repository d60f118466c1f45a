/**
 * vLLM's inference endpoints, which take POST only (its API server answers 405 to any other method). A request
 * with another method that no HTTPRoute rule matches gets the gateway's own 405 naming the method to use,
 * instead of a 404 that explains routing rules to someone who only used the wrong method.
 */
export const POST_ONLY_PATHS: ReadonlySet<string> = new Set([
  '/v1/chat/completions',
  '/v1/chat/completions/render',
  '/v1/completions',
  '/v1/completions/render',
  '/v1/responses',
  '/v1/embeddings',
  // The Anthropic Messages API (vLLM's anthropic entrypoint).
  '/v1/messages',
  '/v1/messages/count_tokens',
  '/v1/audio/transcriptions',
  '/v1/audio/translations',
  '/pooling',
  '/classify',
  '/score',
  '/v1/score',
  '/rerank',
  '/v1/rerank',
  '/v2/rerank',
  '/tokenize',
  '/detokenize',
]);

/** The audio uploads among them: their body is a multipart/form-data form, not JSON. */
const UPLOAD_PATHS: ReadonlySet<string> = new Set(['/v1/audio/transcriptions', '/v1/audio/translations']);

/** What a POST to one of these paths carries, for the 405 that tells a client how to call it. */
export function postBodyOf(path: string): string {
  return UPLOAD_PATHS.has(path) ? 'a multipart/form-data body: the audio in a `file` part, the model in a `model` field' : 'a JSON body naming the model';
}
