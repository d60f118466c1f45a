/** The text prefix-cache scoring hashes, from a parsed request body: bounded in length, built without recursion. */

/**
 * Prefix scoring reads only a prompt's first blocks (llm-d's default: 256 blocks of 64 bytes), so the text is
 * cut here: a 16 MiB chat request costs no 16 MiB string. 1 MiB covers maxPrefixBlocksToMatch up to 16,384
 * blocks of the default size.
 */
export const PROMPT_TEXT_MAX_CHARS = 1024 * 1024;

/**
 * Bodies up to this size have their `messages` written by JSON.stringify at once: its text is then at most a
 * few times the body (numbers such as `1e9` grow), and the body parser's depth limit keeps its recursion safe.
 */
const STRINGIFY_BODY_BYTES = 32 * 1024;

/**
 * Which API's body: the Responses API's prompt is its `input`, which an embedding request's `input` is not; the
 * Anthropic Messages API's starts with its top-level `system`, which no OpenAI body has.
 */
export type PromptShape = 'responses' | 'messages' | undefined;

/**
 * A completion's `prompt` (a string, or the strings of a list joined), or the chat `messages` as JSON text,
 * as llm-d's approximate prefix scorer hashes, after an Anthropic Messages API body's `system` (`shape`); for
 * the Responses API (`shape`), its `instructions` followed by its `input` (a string, or its items as JSON text).
 * At most `maxChars` characters of it. `bodyBytes`, the size of the body `json` was parsed from, lets a small
 * body take the quick way to the same text.
 */
export function promptText(json: Record<string, unknown> | undefined, maxChars = PROMPT_TEXT_MAX_CHARS, bodyBytes = Infinity, shape?: PromptShape): string {
  if (!json) return '';
  const p = json.prompt;
  if (typeof p === 'string') return p.length > maxChars ? p.slice(0, maxChars) : p;
  if (Array.isArray(p)) {
    const parts: string[] = [];
    let n = 0;
    for (const x of p) {
      if (typeof x !== 'string') continue;
      parts.push(x);
      n += x.length;
      if (n >= maxChars) break;
    }
    return cut(parts.join(''), maxChars);
  }
  if (json.messages !== undefined) {
    // The Messages API's system prompt comes first in the prompt vLLM renders, and is what every conversation of
    // a client (Claude Code's is long) shares: the messages alone would share nothing across conversations.
    const system = shape === 'messages' && json.system !== undefined && json.system !== null ? textOf(json.system, maxChars, bodyBytes) : '';
    return system + valueText(json.messages, maxChars - system.length, bodyBytes);
  }
  if (shape === 'responses' && json.input !== undefined) {
    // As GIE's PromptText reads a Responses request's input; its instructions first, as vLLM puts them first
    // in the prompt (a system message), so requests sharing them share a prefix as chat's system message does.
    const instructions = typeof json.instructions === 'string' ? cut(json.instructions, maxChars) : '';
    return instructions + textOf(json.input, maxChars - instructions.length, bodyBytes);
  }
  return '';
}

/** A string as it is, anything else as JSON text; at most `maxChars` of it. */
function textOf(value: unknown, maxChars: number, bodyBytes: number): string {
  return typeof value === 'string' ? cut(value, maxChars) : valueText(value, maxChars, bodyBytes);
}

/** A value as JSON text, at most `maxChars` of it: written at once for a small body, walked for a large one. */
function valueText(value: unknown, maxChars: number, bodyBytes: number): string {
  return bodyBytes <= STRINGIFY_BODY_BYTES ? cut(JSON.stringify(value) ?? '', maxChars) : jsonText(value, maxChars);
}

type Open = { array: unknown[]; next: number } | { object: Record<string, unknown>; keys: string[]; next: number };

/**
 * The first `maxChars` characters of `JSON.stringify(value)` for a value JSON.parse returned, walked with
 * an explicit stack (JSON.stringify recurses: a deep enough value would overflow the stack).
 */
export function jsonText(value: unknown, maxChars: number): string {
  const out: string[] = [];
  let n = 0;
  const emit = (s: string): void => {
    out.push(s);
    n += s.length;
  };
  const stack: Open[] = [];
  // The value to write next; undefined once the top of the stack must be advanced.
  let v: unknown = value;
  let pending = true;
  while (n < maxChars) {
    if (pending) {
      pending = false;
      if (Array.isArray(v)) {
        emit('[');
        stack.push({ array: v, next: 0 });
      } else if (v !== null && typeof v === 'object') {
        emit('{');
        const object = v as Record<string, unknown>;
        stack.push({ object, keys: Object.keys(object), next: 0 });
      } else if (typeof v === 'string') {
        // A long string is cut before it is escaped, so the cost stays bounded too.
        emit(JSON.stringify(v.length > maxChars - n ? v.slice(0, maxChars - n) : v));
      } else emit(JSON.stringify(v) ?? 'null');
      continue;
    }
    const top = stack[stack.length - 1];
    if (!top) break;
    if ('array' in top) {
      if (top.next === top.array.length) {
        emit(']');
        stack.pop();
        continue;
      }
      if (top.next > 0) emit(',');
      v = top.array[top.next++];
    } else {
      if (top.next === top.keys.length) {
        emit('}');
        stack.pop();
        continue;
      }
      const key = top.keys[top.next++]!;
      emit(`${top.next > 1 ? ',' : ''}${JSON.stringify(key)}:`);
      v = top.object[key];
    }
    pending = true;
  }
  return cut(out.join(''), maxChars);
}

function cut(s: string, max: number): string {
  return s.length > max ? s.slice(0, max) : s;
}
