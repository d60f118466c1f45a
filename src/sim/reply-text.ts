/** What the simulated model says: the prompt echoed back, or canned sentences, as a list of output tokens. */

/** `echo` repeats the last user message (or the prompt); `random` strings canned sentences together. */
export type ReplyMode = 'echo' | 'random';

const CANNED_SENTENCES = [
  'The quick brown fox jumps over the lazy dog.',
  'Inference gateways route each request to the pod that can serve it fastest.',
  'A warm prefix cache turns a long prompt into a short prefill.',
  'Continuous batching keeps the accelerator busy between requests.',
  'Every adapter shares the weights of its base model.',
  'Queues grow quickly once a server runs out of free slots.',
] as const;

/** Splits text into word tokens that keep their leading whitespace, so joining them restores the text. */
export function splitWords(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/**
 * The tokens the model would emit if nothing stopped it. The engine applies `max_tokens`, so echo
 * returns every word; random returns exactly `length` tokens, starting at a sentence picked by `seed`.
 */
export function replyTokens(mode: ReplyMode, echoText: string, length: number, seed = Math.random()): string[] {
  if (mode === 'echo') return splitWords(echoText);
  const out: string[] = [];
  let sentence = Math.floor(seed * CANNED_SENTENCES.length);
  // Bounded: each pass adds at least one word, and we stop at `length`.
  while (out.length < length) {
    const words = splitWords(CANNED_SENTENCES[sentence % CANNED_SENTENCES.length] ?? '');
    for (const [i, word] of words.entries()) {
      if (out.length >= length) break;
      out.push(out.length > 0 && i === 0 ? ` ${word}` : word);
    }
    sentence++;
  }
  return out;
}
