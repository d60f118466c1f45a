/** Deterministic prompt text of a chosen token length, measured with the shared ~4 characters/token estimate. */
import { CHARS_PER_TOKEN } from '../sim/token-estimate.js';
import { uniformIndex } from './sampling.js';

const WORDS = [
  'the', 'model', 'serves', 'requests', 'from', 'a', 'fleet', 'of', 'pods', 'each', 'with', 'its', 'own', 'cache',
  'prefix', 'tokens', 'arrive', 'at', 'gateway', 'which', 'picks', 'an', 'endpoint', 'by', 'load', 'and', 'score',
  'system', 'prompt', 'user', 'question', 'answer', 'latency', 'throughput', 'queue', 'batch', 'adapter', 'base',
  'weights', 'memory', 'block', 'route', 'policy', 'cluster', 'node', 'stream', 'chunk', 'time', 'first', 'token',
  'inter', 'output', 'input', 'context', 'window', 'length', 'sample', 'decode', 'prefill', 'schedule', 'metric',
  'health', 'ready', 'pool',
];

/**
 * Returns `lead` followed by random words, exactly `tokens * charsPerToken` characters long, so `estimateTokens`
 * of it (or the count of a simulator run with that `--chars-per-token`) is `tokens`. A distinct `lead` makes texts
 * differ from their first block, as distinct system prompts do.
 */
export function fillerText(random: () => number, tokens: number, lead = '', charsPerToken = CHARS_PER_TOKEN): string {
  const target = Math.max(0, Math.floor(tokens)) * charsPerToken;
  const parts: string[] = [lead];
  let length = lead.length;
  // Bounded: every word adds at least 2 characters.
  while (length < target) {
    const word = WORDS[uniformIndex(random, WORDS.length)] ?? 'token';
    parts.push(word, ' ');
    length += word.length + 1;
  }
  return parts.join('').slice(0, target);
}
