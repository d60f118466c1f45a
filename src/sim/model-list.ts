/** The `GET /v1/models` body: the base model and each LoRA adapter, as vLLM lists them. */
import type { ServedModels } from './served-models.js';

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
  /** The base model's context length; null on an adapter's card, as vLLM's (its ModelCard leaves it unset). */
  readonly max_model_len: number | null;
  readonly permission: readonly unknown[];
}

/** `created` is Unix seconds (the simulator's start time). */
export function modelListBody(served: ServedModels, created: number, maxModelLen: number): {
  object: 'list';
  data: ModelCard[];
} {
  const data = served.list().map(
    ({ id, root, parent }): ModelCard => ({ id, object: 'model', created, owned_by: 'vllm', root, parent, max_model_len: parent === null ? maxModelLen : null, permission: [] }),
  );
  return { object: 'list', data };
}
