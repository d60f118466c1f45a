/** `maxNumOfEndpoints`, the parameter every llm-d picker takes: how many endpoints to return, primary first. */
import type { Endpoint } from '../datastore/endpoint.js';
import type { ParamReader } from '../framework/registry.js';

export const DEFAULT_MAX_NUM_OF_ENDPOINTS = 1;

/** A positive integer, default 1. (llm-d silently falls back to 1 on a non-positive value; we reject it.) */
export function readMaxNumOfEndpoints(r: ParamReader): number {
  return r.positiveInt('maxNumOfEndpoints', DEFAULT_MAX_NUM_OF_ENDPOINTS);
}

/** At most `max` of `endpoints`, ordered by `key(i)` of each, highest first; equal keys in random order. */
export function rankEndpoints(endpoints: readonly Endpoint[], key: (i: number) => number, random: () => number, max: number): Endpoint[] {
  const n = endpoints.length;
  const idx = Array.from({ length: n }, (_, i) => i);
  const tie = Array.from({ length: n }, () => random());
  idx.sort((a, b) => key(b) - key(a) || (tie[a] ?? 0) - (tie[b] ?? 0));
  return idx.slice(0, max).map((i) => endpoints[i] as Endpoint);
}
