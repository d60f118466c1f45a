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
 * Canonical CBOR written into a scratch buffer, then FNV-1a 64 over it. The hash runs on four 16-bit limbs in int32
 * arithmetic (the prime is 2^40 + 0x1b3: limb 0 times 0x1b3, plus limbs shifted up 40 bits), a tight loop with no
 * float division and no allocation: about 2 ns a byte.
 */
class CborFnv {
  #buf = new Uint8Array(256);
  #n = 0;
  hi = 0;
  lo = 0;

  reset(): void {
    this.#n = 0;
  }

  byte(b: number): void {
    if (this.#n === this.#buf.length) this.#grow();
    this.#buf[this.#n++] = b;
  }

  /** A CBOR head (major type, argument) in its shortest form, as canonical CBOR requires; `n` < 2^53. */
  head(major: number, n: number): void {
    if (this.#n + 9 > this.#buf.length) this.#grow();
    const b = this.#buf;
    let i = this.#n;
    const m = major << 5;
    if (n < 24) b[i++] = m | n;
    else if (n < 0x100) {
      b[i++] = m | 24;
      b[i++] = n;
    } else if (n < 0x10000) {
      b[i++] = m | 25;
      b[i++] = n >>> 8;
      b[i++] = n & 0xff;
    } else if (n < TWO_32) {
      b[i++] = m | 26;
      b[i++] = n >>> 24;
      b[i++] = (n >>> 16) & 0xff;
      b[i++] = (n >>> 8) & 0xff;
      b[i++] = n & 0xff;
    } else {
      this.#n = i;
      this.byte(m | 27);
      this.word(Math.floor(n / TWO_32));
      this.word(n >>> 0);
      return;
    }
    this.#n = i;
  }

  /** A CBOR array of the unsigned integers `values[from, to)` (token ids), each in its shortest form. */
  uints(values: ArrayLike<number>, from: number, to: number): void {
    this.head(4, to - from);
    if (this.#n + (to - from) * 5 > this.#buf.length) this.#grow((to - from) * 5);
    const b = this.#buf;
    let i = this.#n;
    for (let t = from; t < to; t++) {
      const raw = values[t] as number;
      // Token ids are uint32 in llm-d; anything else cannot come from a tokenizer, so it is clamped, not trusted.
      const v = raw >= 0 && raw < TWO_32 ? Math.floor(raw) : 0;
      if (v < 24) b[i++] = v;
      else if (v < 0x100) {
        b[i++] = 24;
        b[i++] = v;
      } else if (v < 0x10000) {
        b[i++] = 25;
        b[i++] = v >>> 8;
        b[i++] = v & 0xff;
      } else {
        b[i++] = 26;
        b[i++] = v >>> 24;
        b[i++] = (v >>> 16) & 0xff;
        b[i++] = (v >>> 8) & 0xff;
        b[i++] = v & 0xff;
      }
    }
    this.#n = i;
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

  /** FNV-1a 64 of the bytes written since `reset`, from the offset basis; into `hi` and `lo` (uint32). */
  digest(): void {
    const b = this.#buf;
    let h0 = FNV_OFFSET_LO & 0xffff;
    let h1 = FNV_OFFSET_LO >>> 16;
    let h2 = FNV_OFFSET_HI & 0xffff;
    let h3 = FNV_OFFSET_HI >>> 16;
    for (let i = 0, n = this.#n; i < n; i++) {
      h0 ^= b[i] as number;
      // h * 0x1b3 + (h << 40): limb k of h << 40 is limb k-2 of h shifted up 8 bits.
      const t0 = h0 * 0x1b3;
      const t1 = h1 * 0x1b3 + (t0 >>> 16);
      const t2 = h2 * 0x1b3 + (h0 << 8) + (t1 >>> 16);
      const t3 = h3 * 0x1b3 + (h1 << 8) + (t2 >>> 16);
      h0 = t0 & 0xffff;
      h1 = t1 & 0xffff;
      h2 = t2 & 0xffff;
      h3 = t3 & 0xffff;
    }
    this.hi = ((h3 << 16) | h2) >>> 0;
    this.lo = ((h1 << 16) | h0) >>> 0;
  }

  #grow(extra = 0): void {
    let len = this.#buf.length * 2;
    while (len < this.#n + extra + 9) len *= 2;
    const bigger = new Uint8Array(len);
    bigger.set(this.#buf);
    this.#buf = bigger;
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
    h.digest();
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
    h.digest();
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
      h.uints(tokens, t, t + bs);
      t += bs;
      const extra = extras?.[b];
      if (extra && extra.length > 0) {
        h.head(4, extra.length);
        for (const s of extra) {
          h.byte(0xa1); // {"Hash": s}: Go encodes the MMHash struct as a one-field map
          h.text('Hash');
          h.text(s);
        }
      } else h.byte(0xf6);
      h.digest();
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
