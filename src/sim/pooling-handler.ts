/**
 * vLLM's pooling endpoints on the simulator: `/v1/embeddings`, `/pooling` and `/classify`. Each input is one
 * prefill-only request in the engine (so pooling load shows in queues, KV usage and latency), and answers
 * with a deterministic vector of the input's words (embedding-vector.ts).
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { Engine } from './engine.js';
import type { EngineRequest } from './generation.js';
import type { PoolingInput, PoolingRequest } from './pooling-request.js';
import type { ServedModels } from './served-models.js';
import type { Tokenizer } from './tokenizer.js';
import { embedText, normalize, toBase64 } from './embedding-vector.js';
import { sendJson } from './http-io.js';
import { parsePoolingRequest } from './pooling-request.js';
import { prefillAll } from './submit-all.js';
import { badRequest, modelNotFound } from './vllm-error.js';

/** What the pooling endpoints need from the simulator. */
export interface PoolingDeps {
  readonly engine: Engine;
  readonly served: ServedModels;
  readonly tokenizer: Tokenizer;
  readonly maxModelLen: number;
  /** Length of every embedding (`--embedding-dimensions`). */
  readonly embeddingDimensions: number;
}

/** The classifier's labels, as a Hugging Face config without `id2label` names them. */
const LABELS = ['LABEL_0', 'LABEL_1'] as const;

/** vLLM's UsageInfo for pooling: prompt tokens only. */
export function poolingUsage(promptTokens: number): Record<string, unknown> {
  return { prompt_tokens: promptTokens, total_tokens: promptTokens, completion_tokens: 0, prompt_tokens_details: null };
}

export function newId(prefix: string): string {
  return `${prefix}-${randomUUID().replaceAll('-', '')}`;
}

/** The engine requests for `inputs` after vLLM's per-input length check; each only prefills. */
export function prefillRequests(model: string, inputs: readonly PoolingInput[], deps: PoolingDeps, what: string): EngineRequest[] {
  if (!deps.served.has(model)) throw modelNotFound(model);
  return inputs.map(({ text, tokens }) => {
    if (tokens > deps.maxModelLen) {
      throw badRequest(
        `This model's maximum context length is ${deps.maxModelLen} tokens. However, you requested ${tokens} tokens ` +
          `in the input for ${what}. Please reduce the length of the input.`,
        'input',
      );
    }
    return { lora: deps.served.loraOf(model), promptText: text, promptTokens: tokens, output: [], maxTokens: null };
  });
}

/** Runs the request's inputs through the engine; resolves with their total prompt tokens once all are done. */
async function prefill(req: PoolingRequest, res: ServerResponse, deps: PoolingDeps, what: string): Promise<number> {
  const requests = prefillRequests(req.model, req.inputs, deps, what);
  checkDimensions(req, deps);
  const results = await prefillAll(deps.engine, requests, res);
  return results.reduce((sum, r) => sum + r.promptTokens, 0);
}

function vectorOf(text: string, req: PoolingRequest, deps: PoolingDeps): number[] | string {
  const full = embedText(text, deps.embeddingDimensions);
  // Matryoshka truncation: the leading dimensions, renormalised.
  const v = req.dimensions === null ? full : normalize(full.slice(0, req.dimensions));
  return req.encodingFormat === 'base64' ? toBase64(v) : v;
}

function checkDimensions(req: PoolingRequest, deps: PoolingDeps): void {
  if (req.dimensions !== null && req.dimensions > deps.embeddingDimensions) {
    throw badRequest(
      `\`dimensions\` must be at most ${deps.embeddingDimensions}, the model's embedding size; got ${req.dimensions}`,
      'dimensions',
    );
  }
}

/** `POST /v1/embeddings`: one `embedding` object per input, in input order. */
export async function handleEmbeddings(body: unknown, res: ServerResponse, deps: PoolingDeps): Promise<void> {
  const req = parsePoolingRequest(body, deps.tokenizer);
  const promptTokens = await prefill(req, res, deps, 'embedding generation');
  const data = req.inputs.map(({ text }, index) => ({ index, object: 'embedding', embedding: vectorOf(text, req, deps) }));
  const created = Math.floor(Date.now() / 1000);
  sendJson(res, 200, { id: newId('embd'), object: 'list', created, model: req.model, data, usage: poolingUsage(promptTokens) });
}

/** `POST /pooling`: the pooled hidden state per input, which for this simulator is its embedding. */
export async function handlePooling(body: unknown, res: ServerResponse, deps: PoolingDeps): Promise<void> {
  const req = parsePoolingRequest(body, deps.tokenizer);
  const promptTokens = await prefill(req, res, deps, 'pooling');
  const data = req.inputs.map(({ text }, index) => ({ index, object: 'pooling', data: vectorOf(text, req, deps) }));
  const created = Math.floor(Date.now() / 1000);
  sendJson(res, 200, { id: newId('pool'), object: 'list', created, model: req.model, data, usage: poolingUsage(promptTokens) });
}

/** Two-class probabilities from the input's vector: stable per text, and not all alike. */
function classify(text: string, dimensions: number): { label: string; probs: number[] } {
  const v = embedText(text, dimensions);
  const scale = Math.sqrt(dimensions); // components are ~N(0, 1/d): this makes the logits ~N(0, 1)
  const logits = [(v[0] ?? 0) * scale, (v[1] ?? 0) * scale];
  const max = Math.max(...logits);
  const exp = logits.map((l) => Math.exp(l - max));
  const sum = exp.reduce((a, b) => a + b, 0);
  const probs = exp.map((e) => e / sum);
  return { label: LABELS[probs[1]! > probs[0]! ? 1 : 0], probs };
}

/** `POST /classify`: a label and class probabilities per input. */
export async function handleClassify(body: unknown, res: ServerResponse, deps: PoolingDeps): Promise<void> {
  const req = parsePoolingRequest(body, deps.tokenizer);
  const promptTokens = await prefill(req, res, deps, 'classification');
  const data = req.inputs.map(({ text }, index) => ({ index, ...classify(text, deps.embeddingDimensions), num_classes: LABELS.length }));
  const created = Math.floor(Date.now() / 1000);
  sendJson(res, 200, { id: newId('classify'), object: 'list', created, model: req.model, data, usage: poolingUsage(promptTokens) });
}
