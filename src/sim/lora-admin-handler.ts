/** `POST /v1/load_lora_adapter` and `/v1/unload_lora_adapter`, with vLLM's answers (serving_models.py). */
import type { ServerResponse } from 'node:http';
import type { ServedModels } from './served-models.js';
import { sendText } from './http-io.js';
import { VllmError } from './vllm-error.js';

/** The error type vLLM gives bad load/unload requests. */
const INVALID_USER_INPUT = 'InvalidUserInput';

function stringField(body: unknown, field: string): string {
  const v = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[field] : undefined;
  return typeof v === 'string' ? v : '';
}

/** vLLM answers success with 200 and a plain sentence, not JSON. */
function sendSuccess(res: ServerResponse, message: string): void {
  sendText(res, 200, 'text/plain; charset=utf-8', message);
}

/** Adds the adapter to the served list (and /v1/models); in-flight requests are unaffected. */
export function handleLoadLora(body: unknown, res: ServerResponse, served: ServedModels): void {
  const name = stringField(body, 'lora_name');
  const path = stringField(body, 'lora_path');
  if (name === '' || path === '') {
    throw new VllmError(400, "Both 'lora_name' and 'lora_path' must be provided.", null, INVALID_USER_INPUT);
  }
  if (!served.add(name, path)) {
    throw new VllmError(400, `The lora adapter '${name}' has already been loaded.`, null, INVALID_USER_INPUT);
  }
  sendSuccess(res, `Success: LoRA adapter '${name}' added successfully.`);
}

/** Removes the adapter from the served list; requests already accepted for it still finish. */
export function handleUnloadLora(body: unknown, res: ServerResponse, served: ServedModels): void {
  const name = stringField(body, 'lora_name');
  if (name === '') {
    throw new VllmError(400, "either 'lora_name' and 'lora_int_id' needs to be provided.", null, INVALID_USER_INPUT);
  }
  if (!served.remove(name)) throw new VllmError(404, `The lora adapter '${name}' cannot be found.`);
  sendSuccess(res, `Success: LoRA adapter '${name}' removed successfully.`);
}
