/**
 * vLLM's endpoints that run no model: they tokenize or render a prompt and generate nothing, so what they are
 * sent is no tokens of a tenant's `tokensPerMinute` or `tokensPerDay`. The Anthropic SDKs and Claude Code call
 * `count_tokens` with the whole conversation before sending it: counted at its size, every turn's prompt was
 * charged twice.
 */
const UNCOUNTED: ReadonlySet<string> = new Set([
  '/tokenize',
  '/detokenize',
  '/v1/messages/count_tokens',
  '/v1/chat/completions/render',
  '/v1/completions/render',
]);

/** Whether a request to `path` (no query) uses tokens: every path but those that run no model. */
export function countsTokens(path: string): boolean {
  return !UNCOUNTED.has(path);
}
