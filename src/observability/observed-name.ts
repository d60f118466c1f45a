/**
 * Names taken from requests (the model in a body, a fairness id in a header) as the observers keep them: a
 * client can send a model name of megabytes, which would otherwise become a Prometheus label, an access-log
 * field, a trace attribute and a dashboard row, each kept or written whole.
 */

/** The longest name kept whole: well past any model or LoRA name in use (Hugging Face ids stay under 100). */
export const MAX_OBSERVED_NAME_CHARS = 256;

/** `name`, or its first MAX_OBSERVED_NAME_CHARS characters and `…` when longer. */
export function observedName(name: string): string {
  return name.length <= MAX_OBSERVED_NAME_CHARS ? name : `${name.slice(0, MAX_OBSERVED_NAME_CHARS)}…`;
}
