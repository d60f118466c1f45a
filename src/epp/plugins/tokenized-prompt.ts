/**
 * The request's tokens as the `token-producer` leaves them in the CycleState (llm-d's `TokenizedPrompt` data
 * key), for the precise prefix plugins. An instance is shared by every request with the same prompt prefix, so
 * the block keys computed from it are kept on it too: a repeated system prompt is neither re-tokenized nor re-hashed.
 */
import type { BlockKeyHasher, BlockKeys } from '../../kvevents/block-key.js';

/** The CycleState key (one per request, whichever token-producer instance wrote it). */
export const TOKENIZED_PROMPT_KEY = 'TokenizedPrompt';

export class TokenizedPrompt {
  /** The token ids of the prompt's cacheable prefix (see token-producer.ts), as the engine sees them. */
  readonly tokens: Uint32Array;
  /** `cache_salt` of the request: it taints block 0, as vLLM's extra keys do. */
  readonly cacheSalt: string;
  readonly #keys = new Map<BlockKeyHasher, Map<string, BlockKeys>>();

  constructor(tokens: Uint32Array, cacheSalt = '') {
    this.tokens = tokens;
    this.cacheSalt = cacheSalt;
  }

  /** The block keys under `hasher` for `model`, computed once per (hasher, model). */
  keys(hasher: BlockKeyHasher, model: string): BlockKeys {
    let byModel = this.#keys.get(hasher);
    if (!byModel) this.#keys.set(hasher, (byModel = new Map()));
    let k = byModel.get(model);
    if (!k) {
      const extras = this.cacheSalt !== '' ? [[this.cacheSalt]] : undefined;
      // The salt needs a full first block to ride on, as in llm-d's foldCacheSalt.
      k = hasher.keys(this.tokens, model, null, extras && hasher.blocksOf(this.tokens.length) > 0 ? padExtras(extras, hasher.blocksOf(this.tokens.length)) : undefined);
      byModel.set(model, k);
    }
    return k;
  }
}

function padExtras(first: string[][], n: number): (string[] | null)[] {
  const out: (string[] | null)[] = new Array<string[] | null>(n).fill(null);
  out[0] = first[0] ?? null;
  return out;
}
