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
