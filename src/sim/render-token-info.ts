/**
 * What vLLM's render endpoints add to a GenerateRequest on request: `token_offsets` (`return_token_offsets`, each
 * token's character span in the text tokenized) and `assistant_tokens_mask` (`return_assistant_tokens_mask`, chat:
 * 1 for tokens of assistant turns, as a chat template with `{% generation %}` blocks marks them). The simulator's
 * tokenizer cuts fixed-width pieces and its template is the messages' contents joined, so both are exact here.
 */
import type { Tokenizer } from './tokenizer.js';
import { contentText, isObject } from './request-fields.js';

/**
 * Each token's (start, end) in `text`, counted in characters (code points) as Python's str and Hugging Face's
 * offset mappings count them. A token that starts inside a surrogate pair starts at that character, as a byte-level
 * BPE token holding part of a character does.
 */
export function tokenOffsets(text: string, tokenizer: Tokenizer): [number, number][] {
  const c = tokenizer.charsPerToken;
  const n = tokenizer.count(text);
  const out = new Array<[number, number]>(n);
  // before[u]: code points that start before UTF-16 index u.
  const before = new Int32Array(text.length + 1);
  let points = 0;
  for (let u = 0; u < text.length; u++) {
    before[u] = points;
    if (!isLowSurrogateAfterHigh(text, u)) points++;
  }
  before[text.length] = points;
  for (let i = 0; i < n; i++) {
    const s = i * c;
    const e = Math.min(text.length, s + c);
    const start = isLowSurrogateAfterHigh(text, s) ? (before[s] as number) - 1 : (before[s] as number);
    out[i] = [start, before[e] as number];
  }
  return out;
}

function isLowSurrogateAfterHigh(text: string, u: number): boolean {
  const code = text.charCodeAt(u);
  if (code < 0xdc00 || code > 0xdfff || u === 0) return false;
  const prev = text.charCodeAt(u - 1);
  return prev >= 0xd800 && prev <= 0xdbff;
}

/**
 * 1 for each token overlapping an assistant message's content in the rendered chat, else 0 (Hugging Face marks
 * the tokens from the one holding a generation block's first character to the one holding its last). `messages`
 * has been validated by the chat parser, so its contents read as they rendered.
 */
export function assistantTokensMask(messages: readonly unknown[], tokenizer: Tokenizer, tokenCount: number): number[] {
  const c = tokenizer.charsPerToken;
  const mask = new Array<number>(tokenCount).fill(0);
  let at = 0;
  for (const [i, m] of messages.entries()) {
    const text = contentText(isObject(m) ? m.content : undefined, `messages[${i}].content`);
    if (isObject(m) && m.role === 'assistant' && text.length > 0) for (let t = Math.floor(at / c); t < tokenCount && t * c < at + text.length; t++) mask[t] = 1;
    at += text.length;
  }
  return mask;
}
