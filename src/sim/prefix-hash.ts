/** Chained hashes of a prompt's full KV blocks: equal leading hashes mean an equal prefix, as in vLLM's prefix cache. */
import { CHARS_PER_TOKEN } from './token-estimate.js';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const MURMUR_M = 0x5bd1e995;
/** The second word keeps its top 21 bits, so a key (32 + 21 bits) is a safe integer and a cheap Map key. */
const LOW_SHIFT = 11;
const HIGH_SCALE = 2 ** (32 - LOW_SHIFT);

/**
 * The hash of each full block of `text` (`blocks` of them, `blockSize` tokens of ~4 characters each).
 * Block i's hash covers `namespace` (the model or adapter: its KV differs) and every character up to the
 * end of block i, so it depends on block i-1's. Two 32-bit hashes (FNV-1a and a Murmur-style mix) are run
 * side by side: collisions among 10^5 blocks would otherwise be likely.
 */
export function blockHashes(text: string, namespace: string, blockSize: number, blocks: number): number[] {
  let h1 = FNV_OFFSET;
  let h2 = 0x9747b28c;
  for (let i = 0; i < namespace.length; i++) {
    const c = namespace.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, FNV_PRIME);
    h2 = Math.imul(h2 ^ c, MURMUR_M);
    h2 ^= h2 >>> 13;
  }
  const out = new Array<number>(blocks);
  const charsPerBlock = blockSize * CHARS_PER_TOKEN;
  for (let b = 0; b < blocks; b++) {
    // A separator per block, so a namespace and text cannot shift into each other across the boundary.
    h1 = Math.imul(h1 ^ 0xff, FNV_PRIME);
    const end = Math.min(text.length, (b + 1) * charsPerBlock);
    for (let i = b * charsPerBlock; i < end; i++) {
      const c = text.charCodeAt(i);
      h1 = Math.imul(h1 ^ c, FNV_PRIME);
      h2 = Math.imul(h2 ^ c, MURMUR_M);
      h2 ^= h2 >>> 13;
    }
    out[b] = (h1 >>> 0) * HIGH_SCALE + (h2 >>> 0 >>> LOW_SHIFT);
  }
  return out;
}
