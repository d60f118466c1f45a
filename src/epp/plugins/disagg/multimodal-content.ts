/**
 * Whether a request carries images, audio or video (what llm-d's `always-disagg-multimodal-decider` sends to an
 * encode pod): a chat message content part of one of those types, or a Responses API input part.
 */

/** Content part types that need an encoder: OpenAI's chat parts, vLLM's `video_url`/`audio_url`, the Responses API's. */
const MULTIMODAL_PART_TYPES: ReadonlySet<string> = new Set(['image_url', 'video_url', 'input_audio', 'audio_url', 'input_image']);

/** True when `body` (a parsed request) has a multimodal content part in its `messages` or `input`. */
export function hasMultimodalContent(body: Readonly<Record<string, unknown>> | undefined): boolean {
  if (body === undefined) return false;
  return anyMultimodal(body.messages) || anyMultimodal(body.input);
}

function anyMultimodal(items: unknown): boolean {
  if (!Array.isArray(items)) return false;
  for (const item of items) {
    const content = (item as { content?: unknown } | null)?.content;
    if (!Array.isArray(content)) continue;
    for (const part of content) {
      const type = (part as { type?: unknown } | null)?.type;
      if (typeof type === 'string' && MULTIMODAL_PART_TYPES.has(type)) return true;
    }
  }
  return false;
}
