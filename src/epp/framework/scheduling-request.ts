/** What the scheduler knows about one request: the parts of it that plugins score on. */

export interface SchedulingRequest {
  requestId: string;
  /** The model as it will be sent upstream (a base model or an adapter); undefined without a body model. */
  model: string | undefined;
  /**
   * The text prefix-cache scoring hashes: a completion's `prompt`, or a chat request's `messages` as JSON,
   * as llm-d's approximate prefix scorer does. Empty when the request has neither.
   */
  prompt: string;
  /**
   * The first `maxChars` characters of `prompt`, for a plugin that reads no more (prefix-cache scoring hashes
   * a few KiB): a large request's prompt text then costs only that much. Absent: slice `prompt`.
   */
  promptPrefix?(maxChars: number): string;
  /** The parsed JSON body, read-only: for a plugin that needs its structure (token-producer sends `messages` to render). */
  body?: Readonly<Record<string, unknown>>;
  /** Request header by lower-cased name (e.g. `x-session-token`). */
  header(name: string): string | undefined;
  /** From the request's InferenceObjective (`x-gateway-inference-objective`); 0 by default, negative = sheddable. */
  priority: number;
}
