/** The `GET /v1/models` body: the base model and each LoRA adapter, as vLLM lists them. */

/** Context length reported and enforced (prompt + max_tokens), as vLLM's `--max-model-len`. */
export const MAX_MODEL_LEN = 32768;

/** One entry of vLLM's model list (vllm/entrypoints/openai/protocol.py `ModelCard`). */
export interface ModelCard {
  readonly id: string;
  readonly object: 'model';
  readonly created: number;
  readonly owned_by: 'vllm';
  readonly root: string;
  /** null for the base model; the base model's name for an adapter. */
  readonly parent: string | null;
  readonly max_model_len: number;
  readonly permission: readonly unknown[];
}

/** `created` is Unix seconds (the simulator's start time). */
export function modelListBody(model: string, loras: readonly string[], created: number): {
  object: 'list';
  data: ModelCard[];
} {
  const card = (id: string, parent: string | null): ModelCard => ({
    id,
    object: 'model',
    created,
    owned_by: 'vllm',
    // vLLM sets an adapter's root to its path on disk; simulated adapters have none, so their name stands in.
    root: id,
    parent,
    max_model_len: MAX_MODEL_LEN,
    permission: [],
  });
  return { object: 'list', data: [card(model, null), ...loras.map((lora) => card(lora, model))] };
}
