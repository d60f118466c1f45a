/** Builds a chat or completions request from a system prompt and a user text, the way synthetic workloads send them. */
import type { BenchRequest, WorkloadApi } from './workload.js';

/** The parts of one synthetic request. */
export interface RequestParts {
  model: string;
  /** Optional system prompt: a chat `system` message, or the start of a completions prompt. */
  system?: string;
  user: string;
  maxTokens: number;
  tags?: Record<string, string>;
}

/** Resolves `mixed` with one draw from `random`; the other two ignore it (and draw nothing). */
export function pickApi(api: WorkloadApi, random: () => number): 'chat' | 'completions' {
  if (api === 'mixed') return random() < 0.5 ? 'chat' : 'completions';
  return api;
}

export function buildRequest(api: 'chat' | 'completions', p: RequestParts): BenchRequest {
  const tags = p.tags === undefined ? {} : { tags: p.tags };
  if (api === 'chat') {
    const messages = p.system === undefined ? [] : [{ role: 'system', content: p.system }];
    messages.push({ role: 'user', content: p.user });
    return { path: '/v1/chat/completions', model: p.model, body: { model: p.model, messages, max_tokens: p.maxTokens }, ...tags };
  }
  // Completions keep the system prompt first, so requests of one group still share their prefix.
  const prompt = p.system === undefined ? p.user : `${p.system}\n\n${p.user}`;
  return { path: '/v1/completions', model: p.model, body: { model: p.model, prompt, max_tokens: p.maxTokens }, ...tags };
}

/** Throws a RangeError naming `name` unless `value` is an integer >= `min`. */
export function requireInt(name: string, value: number, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new RangeError(`${name} must be an integer of at least ${min}, got ${value}`);
  return value;
}

/** Throws unless `models` is a non-empty list of non-empty names. */
export function requireModels(models: readonly string[]): void {
  if (models.length === 0 || models.some((m) => typeof m !== 'string' || m === '')) {
    throw new TypeError(`models must be a non-empty list of model names, got ${JSON.stringify(models)}`);
  }
}
