/**
 * Deterministic embeddings for the simulator: a unit vector per text, the normalised sum of one fixed random
 * vector per word, so texts that share words are closer (cosine) than texts that do not.
 */

/** Words are runs of letters or digits, compared lowercase; punctuation and spacing do not matter. */
const WORD = /[\p{L}\p{N}]+/gu;

/** FNV-1a over UTF-16 code units, seeded so different uses of one word give unrelated streams. */
function hash(text: string, seed: number): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** Adds `weight` x the word's fixed random vector: mulberry32 seeded by the word, values in [-1, 1). */
function addWordVector(out: Float64Array, word: string, weight: number): void {
  let state = hash(word, 0x9e3779b9);
  for (let i = 0; i < out.length; i++) {
    state = (state + 0x6d2b79f5) | 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i]! += weight * ((((t ^ (t >>> 14)) >>> 0) / 2 ** 32) * 2 - 1);
  }
}

/**
 * The embedding of `text`: `dimensions` numbers of unit L2 norm, the same for the same words (any case, any
 * punctuation) on every simulator. A text without words is embedded as if it were one word (its whole text),
 * so '' and '?!' still get distinct, stable vectors.
 */
export function embedText(text: string, dimensions: number): number[] {
  const counts = new Map<string, number>();
  for (const [word] of text.toLowerCase().matchAll(WORD)) counts.set(word, (counts.get(word) ?? 0) + 1);
  if (counts.size === 0) counts.set(`\u0000${text}`, 1);
  const sum = new Float64Array(dimensions);
  // Each distinct word costs one pass over the vector, so long texts cost their vocabulary, not their length.
  for (const [word, n] of counts) addWordVector(sum, word, n);
  return normalize(Array.from(sum));
}

/** `v` scaled to unit L2 norm (a zero vector stays zero). */
export function normalize(v: readonly number[]): number[] {
  let norm = 0;
  for (const x of v) norm += x * x;
  norm = Math.sqrt(norm);
  return norm === 0 ? [...v] : v.map((x) => x / norm);
}

/** Cosine similarity of two equally long vectors, in [-1, 1]. */
export function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i] ?? 0;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** What vLLM's `encoding_format: base64` sends: the float32 values, little-endian, base64-encoded. */
export function toBase64(v: readonly number[]): string {
  const buf = Buffer.alloc(v.length * 4);
  for (const [i, x] of v.entries()) buf.writeFloatLE(x, i * 4);
  return buf.toString('base64');
}
