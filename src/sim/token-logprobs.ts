/**
 * Log probabilities in vLLM's two shapes (completions' `CompletionLogProbs`, chat's `ChatCompletionLogProbs`). The
 * simulator samples nothing, so the numbers are made up, but deterministically: the same token at the same place
 * always gets the same value, the chosen token is always the most likely (as greedy decoding picks it), and
 * the alternatives are distinct tokens less likely than it. Clients that read logprobs (lm-eval, the openai SDKs'
 * `choice.logprobs.content`) get the structure they would get from vLLM instead of null.
 */

/** vLLM clamps -inf to this (serving_completion.py, serving_chat.py). */
const MIN_LOGPROB = -9999.0;

/** Alternatives offered in top_logprobs: more than vLLM's default --max-logprobs of 20, so any token leaves enough. */
const ALTERNATIVES = [
  ' the', ' a', ',', '.', ' and', ' of', ' to', ' in', ' is', ' it', ' that', ' for', ' on', ' with', ' as', ' was',
  ' at', ' by', ' this', ' be', ' or', ' an', '\n', ' not',
] as const;

/** A number in [0, 1) from a string, FNV-1a: stable across runs and processes. */
function unit(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0) / 2 ** 32;
}

/** The chosen token's logprob: in (-2, 0], so exp() reads as a plausible probability. */
function chosenLogprob(token: string, position: number): number {
  return -2 * unit(`${position}:${token}`);
}

/** The chosen token and `k` alternatives, most likely first, each less likely than the one before. */
function topOf(token: string, position: number, k: number): { token: string; logprob: number }[] {
  const chosen = chosenLogprob(token, position);
  const top = [{ token, logprob: chosen }];
  let logprob = chosen;
  for (const alt of ALTERNATIVES) {
    if (top.length > k) break;
    if (alt === token) continue;
    logprob -= 0.25 + 2 * unit(`${position}:${token}:${alt}`);
    top.push({ token: alt, logprob: Math.max(logprob, MIN_LOGPROB) });
  }
  return top;
}

/** UTF-8 bytes of a token, as vLLM (and OpenAI) report them in chat logprobs. */
function bytesOf(token: string): number[] {
  return [...Buffer.from(token, 'utf8')];
}

/** vLLM's `CompletionLogProbs`. */
export interface CompletionLogprobs {
  text_offset: number[];
  token_logprobs: (number | null)[];
  tokens: string[];
  top_logprobs: (Record<string, number> | null)[];
}

/**
 * Completions' logprobs of `tokens`, the first at `position` of the choice and at character `textOffset` of its
 * text. With `k` = n, each `top_logprobs` entry holds the n most likely tokens, the chosen one first (just it for 0).
 * `promptTokens` leading tokens are the echoed prompt: its first has no logprob (null), as vLLM's prompt_logprobs.
 */
export function completionLogprobs(tokens: readonly string[], k: number, position = 0, textOffset = 0, promptTokens = 0): CompletionLogprobs {
  const out: CompletionLogprobs = { text_offset: [], token_logprobs: [], tokens: [], top_logprobs: [] };
  let offset = textOffset;
  for (const [i, token] of tokens.entries()) {
    const at = position + i;
    out.text_offset.push(offset);
    out.tokens.push(token);
    offset += token.length;
    if (at === 0 && promptTokens > 0) {
      out.token_logprobs.push(null);
      out.top_logprobs.push(null);
      continue;
    }
    // vLLM's entry holds the chosen token and the k most likely; greedy, the chosen one is the first of those.
    const top = topOf(token, at, k).slice(0, Math.max(k, 1));
    out.token_logprobs.push(top[0]!.logprob);
    out.top_logprobs.push(Object.fromEntries(top.map((t) => [t.token, t.logprob])));
  }
  return out;
}

/** One entry of chat's `logprobs.content`. */
export interface ChatLogprob {
  token: string;
  logprob: number;
  bytes: number[];
  top_logprobs: { token: string; logprob: number; bytes: number[] }[];
}

/** Chat's `{content: [...]}` for `tokens` from `position` of the choice, `k` (= top_logprobs) alternatives each. */
export function chatLogprobs(tokens: readonly string[], k: number, position = 0): { content: ChatLogprob[] } {
  return {
    content: tokens.map((token, i) => {
      const top = topOf(token, position + i, k);
      const entries = top.slice(0, k).map((t) => ({ token: t.token, logprob: t.logprob, bytes: bytesOf(t.token) }));
      return { token, logprob: top[0]!.logprob, bytes: bytesOf(token), top_logprobs: entries };
    }),
  };
}
