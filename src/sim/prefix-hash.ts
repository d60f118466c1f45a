/**
 * The simulator's engine block hash: chained over token-id blocks as vLLM's prefix cache hashes them
 * (`hash((parent_hash or NONE_HASH, tuple(token_ids), extra_keys))`), 64 bits, the same in every process.
 */

/** The parent of a prompt's first block: vLLM's NONE_HASH (random per process unless PYTHONHASHSEED is set; fixed here). */
export const NONE_HASH = 0x6a09e667f3bcc908n;

const M1 = 0xcc9e2d51;
const M2 = 0x1b873593;
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;

/** One word into lane A: a MurmurHash3 (x86, 32-bit) round. */
function mixA(h: number, w: number): number {
  let k = Math.imul(w, M1);
  k = (k << 15) | (k >>> 17);
  h ^= Math.imul(k, M2);
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/** One word into lane B: an xxHash32 round, so the two lanes do not share collisions. */
function mixB(h: number, w: number): number {
  h = (h + Math.imul(w, P2)) | 0;
  h = (h << 13) | (h >>> 19);
  return Math.imul(h, P1);
}

function finalA(h: number, len: number): number {
  h ^= len;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

function finalB(h: number, len: number): number {
  h = (h + len) | 0;
  h = Math.imul(h ^ (h >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * The engine hash of each of the first `blocks` full blocks of `tokenIds` (`blockSize` ids each).
 *
 * Recipe (documented in docs/configuration.md, "infergate sim"): block i's hash is 64 bits, two 32-bit lanes
 * (MurmurHash3 and xxHash32 rounds over 32-bit words, high lane first) over the words
 * `[parent_hi, parent_lo, token_ids of block i..., 0xffffffff, UTF-16 units of extraKey...]`, where the parent
 * is block i-1's hash, or {@link NONE_HASH} for block 0, and `extraKey` is the LoRA adapter's name (vLLM puts
 * it in every block's extra keys) or null for the base model. Block 0 of a request with a `cache_salt` also
 * hashes `0xfffffffe, UTF-16 units of the salt...` last (vLLM puts the salt in block 0's extra keys). Like vLLM's,
 * a block's hash covers every token before it through the chain, and the same tokens under another adapter or
 * salt hash differently.
 * KV events send these values as they are: they are already 64-bit integers.
 *
 * To extend a chain (a block that fills while decoding), pass `from`, the first block to hash, and `parent`,
 * the hash of block `from - 1`: the result is then the hashes of blocks `from ..< blocks` only, each one
 * costing `blockSize` words, whatever came before.
 */
export function blockHashes(
  tokenIds: readonly number[],
  blockSize: number,
  blocks: number,
  extraKey: string | null,
  from = 0,
  parent: bigint = NONE_HASH,
  salt: string | null = null,
): bigint[] {
  const out = new Array<bigint>(Math.max(0, blocks - from));
  let hi = Number(parent >> 32n);
  let lo = Number(parent & 0xffffffffn);
  for (let b = from; b < blocks; b++) {
    let a = 0x3c6ef372;
    let c = 0x165667b1;
    a = mixA(mixA(a, hi), lo);
    c = mixB(mixB(c, hi), lo);
    const end = (b + 1) * blockSize;
    for (let i = b * blockSize; i < end; i++) {
      const t = tokenIds[i] ?? 0;
      a = mixA(a, t);
      c = mixB(c, t);
    }
    let words = 2 + blockSize;
    if (extraKey !== null) {
      // A marker word, so the extra key cannot run into the token ids.
      a = mixA(a, 0xffffffff);
      c = mixB(c, 0xffffffff);
      for (let i = 0; i < extraKey.length; i++) {
        a = mixA(a, extraKey.charCodeAt(i));
        c = mixB(c, extraKey.charCodeAt(i));
      }
      words += 1 + extraKey.length;
    }
    if (b === 0 && salt !== null) {
      a = mixA(a, 0xfffffffe);
      c = mixB(c, 0xfffffffe);
      for (let i = 0; i < salt.length; i++) {
        a = mixA(a, salt.charCodeAt(i));
        c = mixB(c, salt.charCodeAt(i));
      }
      words += 1 + salt.length;
    }
    hi = finalA(a, words);
    lo = finalB(c, words);
    out[b - from] = (BigInt(hi) << 32n) | BigInt(lo);
  }
  return out;
}
