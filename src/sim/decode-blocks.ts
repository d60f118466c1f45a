/** Blocks that fill while a sequence decodes: their token ids and chained hashes, as vLLM's request block hasher extends them. */
import type { Sequence } from './sequence.js';
import { blockHashes } from './prefix-hash.js';
import type { Tokenizer } from './tokenizer.js';

/**
 * Call right after `seq.generated` grew, when `seq.promptLen + seq.generated` is a multiple of `blockSize` and
 * the new token is not the last: the block that just filled gets its hash, chained on the block before it,
 * so the next `KvCache.commit` (once the step computing that token ends) registers it and reports it stored.
 * A sequence's hashes only ever grow at their end, so a block already hashed (the sequence recomputes after
 * preemption) or a chain with a gap (a prompt that claims more tokens than its text has) is left alone.
 * Costs one block's characters, tokenizing and hashing: O(blockSize), whatever the prompt's or reply's length.
 *
 * Token ids: position p holds the id the tokenizer gives position p of the sequence's text, prompt then reply
 * (`tokenize(promptText + reply)[p]`), so a later prompt that starts with this prompt and this reply (a chat
 * continuation, the messages' texts being joined as they are) has these blocks' ids and hits them. Positions
 * count output tokens, which are words, while the tokenizer's pieces are `charsPerToken` characters: a reply of
 * n words fills n positions with the first n pieces of its text. Positions past the text (a reply of words
 * shorter than a piece) take the id of their word's first piece; no later prompt holds those, so they never hit.
 */
export function hashFilledBlock(seq: Sequence, blockSize: number, tokenizer: Pick<Tokenizer, 'encode' | 'charsPerToken'>): void {
  const { charsPerToken } = tokenizer;
  const end = seq.promptLen + seq.generated;
  const index = end / blockSize - 1;
  if (seq.hashes.length !== index) return;
  const start = index * blockSize;
  const ids = seq.tokenIds;
  if (seq.pendingText === null) {
    seq.pendingText = seq.req.promptText.slice(start * charsPerToken);
    // The prompt's ids past its last full block go: the reply's first characters may complete its last piece.
    ids.length = start;
  }
  // Words are appended only as far as this block reaches, so no block costs more than its own characters.
  const chars = blockSize * charsPerToken;
  let text = seq.pendingText;
  while (text.length < chars && seq.pendingWord < seq.tokens.length) text += seq.tokens[seq.pendingWord++]!;
  for (const id of tokenizer.encode(text.slice(0, chars))) ids.push(id);
  seq.pendingText = text.slice(chars);
  // Only a reply of words shorter than a piece gets here: pad with each word's own first piece.
  while (ids.length < end) ids.push(tokenizer.encode(seq.tokens[ids.length - seq.promptLen] ?? ' ')[0] ?? 1);
  const parent = index > 0 ? seq.hashes[index - 1] : undefined;
  seq.hashes.push(blockHashes(ids, blockSize, index + 1, seq.lora, index, parent, seq.salt ?? null)[0]!);
}
