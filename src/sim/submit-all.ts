/**
 * Submits the engine requests one HTTP request makes (n choices, a batch of embedding inputs, score pairs) as a
 * unit: all are queued or none is, and a client that disconnects takes every one of them out of the engine.
 */
import type { ServerResponse } from 'node:http';
import type { Engine } from './engine.js';
import type { EngineRequest, Generation, GenerationListener, GenerationResult } from './generation.js';
import { VllmError } from './vllm-error.js';
import { QueueFullError } from './waiting-queue.js';

function busy(): VllmError {
  return new VllmError(429, 'The server is busy: its waiting queue is full. Retry later or on another replica.');
}

/**
 * Queues `requests[i]` with `listenerOf(i)`. Throws the 429 (nothing left queued) when the waiting queue cannot
 * take them all. Listeners are only ever called later, from the engine's steps.
 */
export function submitAll(
  engine: Engine,
  requests: readonly EngineRequest[],
  listenerOf: (index: number) => GenerationListener,
  res: ServerResponse,
): Generation[] {
  if (engine.queueFull) throw busy();
  const generations: Generation[] = [];
  try {
    for (const [i, req] of requests.entries()) generations.push(engine.submit(req, listenerOf(i)));
  } catch (err) {
    for (const g of generations) g.abort();
    throw err instanceof QueueFullError ? busy() : err;
  }
  res.on('close', () => {
    if (!res.writableEnded) for (const g of generations) g.abort();
  });
  return generations;
}

/**
 * Runs requests that generate nothing (pooling: prefill only) and resolves with their results in order, once
 * the last one is done. Never resolves if the client leaves first: its requests are aborted and nothing is sent.
 */
export function prefillAll(engine: Engine, requests: readonly EngineRequest[], res: ServerResponse): Promise<GenerationResult[]> {
  return new Promise((resolve) => {
    const results = new Array<GenerationResult>(requests.length);
    let left = requests.length;
    if (left === 0) return resolve(results);
    submitAll(engine, requests, (i) => ({
      onToken() {},
      onFinish(result) {
        results[i] = result;
        if (--left === 0) resolve(results);
      },
    }), res);
  });
}
