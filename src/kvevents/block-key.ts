/**
 * llm-d's block keys (ANCHORS §3c; router `pkg/kvcache/kvblock/token_processor.go`, `cbor-fnv`): tokens in chunks of
 * `blockSize` (a partial last chunk is dropped), each key FNV-64a over the canonical CBOR of
 * `[parentKey, tokens, extra]`, the chain rooted at FNV-64a(CBOR([FNV-64a(hashSeed), null, modelName])).
 * The same function keys the engine's events and the request's tokens, so the engine's own hash recipe never matters.
 */

/**
 * Keys of consecutive blocks, each 64 bits as two int32 halves: `keys[2i]` the high word, `keys[2i + 1]` the low
 * (signed, as an Int32Array reads them). Typed, because a request's keys are cached and looked up, never rebuilt.
 */
export interface BlockKeys {
  readonly count: number;
  readonly keys: Int32Array;
}

/** A key's two halves. */
export interface BlockKey {
  readonly hi: number;
  readonly lo: number;
}

export interface BlockKeySettings {
  /** `tokenProcessorConfig.blockSize` (llm-d's `blockSizeTokens`): tokens per block, default 16 as vLLM. */
  readonly blockSize: number;
  /** `tokenProcessorConfig.hashSeed` (default ""): seeds the root, as vLLM's PYTHONHASHSEED seeded NONE_HASH. */
  readonly hashSeed: string;
}

export const EMPTY_KEYS: BlockKeys = { count: 0, keys: new Int32Array(0) };

const FNV_OFFSET_HI = 0xcbf29ce4;
const FNV_OFFSET_LO = 0x84222325;
const TWO_32 = 4294967296;
const encoder = new TextEncoder();

/**
 * FNV-1a 64 over the bytes of a CBOR item as it is written: nothing is buffered. The state is two uint32 words;
 * the prime 2^40 + 0x1b3 multiplies as lo·0x1b3 (exact in a double), hi·0x1b3 + carry, plus lo shifted into hi.
 */
class CborFnv {
  hi = FNV_OFFSET_HI;
  lo = FNV_OFFSET_LO;

  reset(): void {
    this.hi = FNV_OFFSET_HI;
    this.lo = FNV_OFFSET_LO;
  }

  byte(b: number): void {
    const lo = (this.lo ^ b) >>> 0;
    const l = lo * 0x1b3;
    this.hi = (this.hi * 0x1b3 + Math.floor(l / TWO_32) + ((lo << 8) >>> 0)) >>> 0;
    this.lo = l >>> 0;
  }

  /** A CBOR head (major type, argument) in its shortest form, as canonical CBOR requires; `n` < 2^53. */
  head(major: number, n: number): void {
    const m = major << 5;
    if (n < 24) this.byte(m | n);
    else if (n < 0x100) {
      this.byte(m | 24);
      this.byte(n);
    } else if (n < 0x10000) {
      this.byte(m | 25);
      this.byte(n >>> 8);
      this.byte(n & 0xff);
    } else if (n < TWO_32) {
      this.byte(m | 26);
      this.word(n);
    } else {
      this.byte(m | 27);
      this.word(Math.floor(n / TWO_32));
      this.word(n >>> 0);
    }
  }

  /** An unsigned 64-bit integer given as two uint32 words, shortest form. */
  u64(hi: number, lo: number): void {
    if (hi === 0) return this.head(0, lo);
    this.byte(27);
    this.word(hi);
    this.word(lo);
  }

  word(w: number): void {
    this.byte(w >>> 24);
    this.byte((w >>> 16) & 0xff);
    this.byte((w >>> 8) & 0xff);
    this.byte(w & 0xff);
  }

  text(s: string): void {
    const bytes = encoder.encode(s);
    this.head(3, bytes.length);
    for (const b of bytes) this.byte(b);
  }
}

/**
 * Computes block keys. One instance per setting; not re-entrant (it reuses one hash state), which is fine on one
 * thread. Root keys are cached per model name (a bounded set in practice; the cache is cleared past 1,024).
 */
export class BlockKeyHasher {
  readonly blockSize: number;
  readonly hashSeed: string;
  readonly #h = new CborFnv();
  readonly #initHi: number;
  readonly #initLo: number;
  readonly #roots = new Map<string, BlockKey>();

  constructor(settings: BlockKeySettings) {
    if (!Number.isInteger(settings.blockSize) || settings.blockSize < 1) throw new RangeError(`blockSize must be a positive integer, got ${settings.blockSize}`);
    this.blockSize = settings.blockSize;
    this.hashSeed = settings.hashSeed;
    const h = this.#h;
    h.reset();
    for (const b of encoder.encode(settings.hashSeed)) h.byte(b);
    this.#initHi = h.hi;
    this.#initLo = h.lo;
  }

  /** The chain root of `model` (the LoRA name for an adapter's blocks). */
  root(model: string): BlockKey {
    let r = this.#roots.get(model);
    if (r) return r;
    const h = this.#h;
    h.reset();
    h.head(4, 3);
    h.u64(this.#initHi, this.#initLo);
    h.byte(0xf6); // the root hashes no tokens: Go's nil slice encodes as null
    h.text(model);
    r = { hi: h.hi | 0, lo: h.lo | 0 };
    if (this.#roots.size >= 1024) this.#roots.clear();
    this.#roots.set(model, r);
    return r;
  }

  /** How many full blocks `tokenCount` tokens make. */
  blocksOf(tokenCount: number): number {
    return Math.floor(tokenCount / this.blockSize);
  }

  /**
   * The keys of every full block of `tokens`, chained from `parent` (the key of the block before them), or from
   * `model`'s root when `parent` is null. `extras[i]`, when given and non-empty, taints block i as llm-d's
   * multimodal hashes do (a CBOR list of `{"Hash": s}`); the cache salt goes into block 0 this way.
   */
  keys(tokens: ArrayLike<number>, model: string, parent: BlockKey | null = null, extras?: readonly (readonly string[] | null | undefined)[]): BlockKeys {
    const n = this.blocksOf(tokens.length);
    if (n === 0) return EMPTY_KEYS;
    const out = new Int32Array(n * 2);
    const p = parent ?? this.root(model);
    let hi = p.hi >>> 0;
    let lo = p.lo >>> 0;
    const h = this.#h;
    const bs = this.blockSize;
    for (let b = 0, t = 0; b < n; b++) {
      h.reset();
      h.byte(0x83); // [parent, tokens, extra]
      h.u64(hi, lo);
      h.head(4, bs);
      for (const end = t + bs; t < end; t++) {
        const tok = tokens[t] as number;
        // Token ids are uint32 in llm-d; anything else cannot come from a tokenizer, so it is clamped, not trusted.
        h.head(0, tok >= 0 && tok < TWO_32 ? Math.floor(tok) : 0);
      }
      const extra = extras?.[b];
      if (extra && extra.length > 0) {
        h.head(4, extra.length);
        for (const s of extra) {
          h.byte(0xa1); // {"Hash": s}: Go encodes the MMHash struct as a one-field map
          h.text('Hash');
          h.text(s);
        }
      } else h.byte(0xf6);
      hi = h.hi;
      lo = h.lo;
      out[2 * b] = hi | 0;
      out[2 * b + 1] = lo | 0;
    }
    return { count: n, keys: out };
  }
}

/** Key `i` of `k` as an unsigned 64-bit bigint (tests, logs). */
export function keyAt(k: BlockKeys, i: number): bigint {
  return (BigInt((k.keys[2 * i] as number) >>> 0) << 32n) | BigInt((k.keys[2 * i + 1] as number) >>> 0);
}

/** The last key of `k`, to chain the next blocks on; null when there is none. */
export function lastKey(k: BlockKeys): BlockKey | null {
  return k.count === 0 ? null : { hi: k.keys[2 * k.count - 2] as number, lo: k.keys[2 * k.count - 1] as number };
}
