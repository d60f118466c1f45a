/** A model as a vLLM server lists it in `GET /v1/models`: a base model, or a LoRA adapter with its `parent`. */

export interface ModelCard {
  id: string;
  /** The base model of a LoRA adapter; null for a base model. */
  parent: string | null;
  root?: string;
  owned_by?: string;
  max_model_len?: number;
}

/** Reads vLLM's `{"object":"list","data":[...]}`; tolerant of extra fields, strict about `id`. */
export function parseModelList(json: unknown): ModelCard[] {
  const data = (json as { data?: unknown } | null)?.data;
  if (!Array.isArray(data)) throw new Error('GET /v1/models did not return {"data": [...]}');
  const out: ModelCard[] = [];
  for (const item of data) {
    const o = item as Record<string, unknown> | null;
    if (!o || typeof o.id !== 'string' || o.id === '') continue;
    const parent = typeof o.parent === 'string' && o.parent !== '' && o.parent !== o.id ? o.parent : null;
    const card: ModelCard = { id: o.id, parent };
    if (typeof o.root === 'string') card.root = o.root;
    if (typeof o.owned_by === 'string') card.owned_by = o.owned_by;
    if (typeof o.max_model_len === 'number') card.max_model_len = o.max_model_len;
    out.push(card);
  }
  return out;
}
