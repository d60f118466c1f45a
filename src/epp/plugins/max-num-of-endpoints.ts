/** `maxNumOfEndpoints`, the parameter every llm-d picker takes: how many endpoints to return, primary first. */
import type { ParamReader } from '../framework/registry.js';

export const DEFAULT_MAX_NUM_OF_ENDPOINTS = 1;

/** A positive integer, default 1. (llm-d silently falls back to 1 on a non-positive value; we reject it.) */
export function readMaxNumOfEndpoints(r: ParamReader): number {
  return r.positiveInt('maxNumOfEndpoints', DEFAULT_MAX_NUM_OF_ENDPOINTS);
}

/** Indices 0..n-1 ordered by `key` descending; equal keys in random order. */
export function rankIndices(n: number, key: (i: number) => number, random: () => number): number[] {
  const idx = Array.from({ length: n }, (_, i) => i);
  const tie = Array.from({ length: n }, () => random());
  return idx.sort((a, b) => key(b) - key(a) || (tie[a] ?? 0) - (tie[b] ?? 0));
}
