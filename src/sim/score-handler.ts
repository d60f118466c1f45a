/**
 * vLLM's `/score` (`/v1/score`) and `/rerank` (`/v1/rerank`, `/v2/rerank`) on the simulator: every
 * (query, document) pair is one prefill-only request in the engine, scored by how many words the two share
 * (the clamped cosine of their embeddings, in [0, 1]: 1 for the same words, about 0 for none in common).
 */
import type { ServerResponse } from 'node:http';
import type { PoolingDeps } from './pooling-handler.js';
import type { Json } from './request-fields.js';
import { cosine, embedText } from './embedding-vector.js';
import { sendJson } from './http-io.js';
import { newId, poolingUsage, prefillRequests } from './pooling-handler.js';
import { objectBody, optionalInteger, requiredModel } from './request-fields.js';
import { prefillAll } from './submit-all.js';
import { badRequest } from './vllm-error.js';

/** One side of a score request: a string or a non-empty list of strings. */
function texts(body: Json, field: string): string[] {
  const v = body[field];
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.length > 0 && v.every((t) => typeof t === 'string')) return v;
  throw badRequest(`\`${field}\` must be a string or a non-empty array of strings (the simulator scores text only)`, field);
}

/** vLLM pairs one first text with every second text (1:N), or the two lists element-wise (N:N). */
function pairs(first: string[], second: string[]): Array<[string, string]> {
  if (first.length === 1) return second.map((t) => [first[0]!, t]);
  if (first.length !== second.length) {
    throw badRequest(`Input lengths must be either 1:1, 1:N or N:N; got ${first.length}:${second.length}`);
  }
  return first.map((t, i) => [t, second[i]!]);
}

/** The field names vLLM accepts for the two sides of `/score`, newest first. */
const SCORE_FIELDS: ReadonlyArray<[string, string]> = [['queries', 'documents'], ['queries', 'items'], ['data_1', 'data_2'], ['text_1', 'text_2']];

function scorePairs(body: Json): Array<[string, string]> {
  const names = SCORE_FIELDS.find(([a, b]) => body[a] !== undefined && body[b] !== undefined) ?? ['text_1', 'text_2'];
  return pairs(texts(body, names[0]), texts(body, names[1]));
}

/** Runs the pairs through the engine; resolves with each pair's relevance and the prompt tokens, once all are done. */
async function score(model: string, list: Array<[string, string]>, res: ServerResponse, deps: PoolingDeps): Promise<{ scores: number[]; promptTokens: number }> {
  const inputs = list.map(([a, b]) => ({ text: a + b, tokens: deps.tokenizer.count(a) + deps.tokenizer.count(b) }));
  const results = await prefillAll(deps.engine, prefillRequests(model, inputs, deps, 'scoring'), res);
  const scores = list.map(([a, b]) => Math.max(0, cosine(embedText(a, deps.embeddingDimensions), embedText(b, deps.embeddingDimensions))));
  return { scores, promptTokens: results.reduce((sum, r) => sum + r.promptTokens, 0) };
}

/** `POST /score`: one score per pair, in pair order. */
export async function handleScore(body: unknown, res: ServerResponse, deps: PoolingDeps): Promise<void> {
  const json = objectBody(body);
  const model = requiredModel(json);
  const { scores, promptTokens } = await score(model, scorePairs(json), res, deps);
  const data = scores.map((s, index) => ({ index, object: 'score', score: s }));
  const created = Math.floor(Date.now() / 1000);
  sendJson(res, 200, { id: newId('score'), object: 'list', created, model, data, usage: poolingUsage(promptTokens) });
}

/** `POST /rerank` (Jina/Cohere style): the documents by relevance to the query, best first, at most `top_n`. */
export async function handleRerank(body: unknown, res: ServerResponse, deps: PoolingDeps): Promise<void> {
  const json = objectBody(body);
  const model = requiredModel(json);
  if (typeof json.query !== 'string') throw badRequest('`query` must be a string', 'query');
  const documents = texts(json, 'documents');
  const topN = optionalInteger(json, 'top_n', 0) ?? 0;
  const { scores, promptTokens } = await score(model, documents.map((d) => [json.query as string, d]), res, deps);
  const results = documents
    .map((text, index) => ({ index, document: { text }, relevance_score: scores[index]! }))
    .sort((a, b) => b.relevance_score - a.relevance_score || a.index - b.index)
    .slice(0, topN > 0 ? topN : documents.length);
  sendJson(res, 200, { id: newId('rerank'), model, usage: { prompt_tokens: promptTokens, total_tokens: promptTokens }, results });
}
