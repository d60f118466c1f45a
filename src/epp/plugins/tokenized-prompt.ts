/**
 * The request's tokens as the `token-producer` leaves them in the CycleState (llm-d's `TokenizedPrompt` data
 * key), for the precise prefix plugins. An instance is shared by every request it serves (a cached prompt prefix,
 * or one render shared by the same request in flight twice), so the block keys computed from it are kept on it too.
 * A prompt made `after` an earlier one of the same prefix reuses that one's keys for the blocks both begin with:
 * a repeated system prompt is hashed once, whatever question follows it.
 */
import type { BlockKeyHasher, BlockKeys } from '../../kvevents/block-key.js';

/** The CycleState key (one per request, whichever token-producer instance wrote it). */
export const TOKENIZED_PROMPT_KEY = 'TokenizedPrompt';

type KeysByHasher = Map<BlockKeyHasher, Map<string, BlockKeys>>;

export class TokenizedPrompt {
  /** The token ids of the whole prompt, or of its cacheable prefix (see token-producer.ts), as the engine sees them. */
  readonly tokens: Uint32Array;
  /** `cache_salt` of the request: it taints block 0, as vLLM's extra keys do. */
  readonly cacheSalt: string;
  readonly #keys: KeysByHasher = new Map();
  /** An earlier prompt's tokens and keys (not the prompt itself: no chain of prompts is kept alive), until keyed once. */
  #earlier: { tokens: Uint32Array; keys: KeysByHasher } | undefined;

  /** `after`: an earlier prompt likely to begin as this one does (the last one rendered after the same prefix). */
  constructor(tokens: Uint32Array, cacheSalt = '', after?: TokenizedPrompt) {
    this.tokens = tokens;
    this.cacheSalt = cacheSalt;
    if (after && after.cacheSalt === cacheSalt) this.#earlier = { tokens: after.tokens, keys: after.#keys };
  }

  /** The block keys under `hasher` for `model`, computed once per (hasher, model). */
  keys(hasher: BlockKeyHasher, model: string): BlockKeys {
    let byModel = this.#keys.get(hasher);
    if (!byModel) this.#keys.set(hasher, (byModel = new Map()));
    let k = byModel.get(model);
    if (!k) {
      k = this.#reused(hasher, model) ?? this.#hashed(hasher, model);
      byModel.set(model, k);
      this.#earlier = undefined;
    }
    return k;
  }

  #hashed(hasher: BlockKeyHasher, model: string): BlockKeys {
    const extras = this.cacheSalt !== '' ? [[this.cacheSalt]] : undefined;
    // The salt needs a full first block to ride on, as in llm-d's foldCacheSalt.
    return hasher.keys(this.tokens, model, null, extras && hasher.blocksOf(this.tokens.length) > 0 ? padExtras(extras, hasher.blocksOf(this.tokens.length)) : undefined);
  }

  /** The earlier prompt's keys for the full blocks both begin with, the rest chained on them; undefined when none. */
  #reused(hasher: BlockKeyHasher, model: string): BlockKeys | undefined {
    const earlier = this.#earlier;
    const before = earlier?.keys.get(hasher)?.get(model);
    if (!earlier || !before || before.count === 0) return undefined;
    const a = this.tokens;
    const b = earlier.tokens;
    const limit = Math.min(a.length, b.length, before.count * hasher.blockSize);
    let same = 0;
    while (same < limit && a[same] === b[same]) same++;
    const shared = Math.floor(same / hasher.blockSize);
    if (shared === 0) return undefined;
    // Block 0 (the salt's) is among the shared ones: the rest carries no extras.
    const rest = hasher.keys(a.subarray(shared * hasher.blockSize), model, { hi: before.keys[2 * shared - 2] as number, lo: before.keys[2 * shared - 1] as number });
    const out = new Int32Array(2 * (shared + rest.count));
    out.set(before.keys.subarray(0, 2 * shared));
    out.set(rest.keys, 2 * shared);
    return { count: shared + rest.count, keys: out };
  }
}

function padExtras(first: string[][], n: number): (string[] | null)[] {
  const out: (string[] | null)[] = new Array<string[] | null>(n).fill(null);
  out[0] = first[0] ?? null;
  return out;
}
