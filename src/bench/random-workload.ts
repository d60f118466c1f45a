/** Random prompt and output lengths (clipped normal), a random model per request: load without structure. */
import { fillerText } from './filler-text.js';
import { buildRequest, pickApi, requireModels } from './request-body.js';
import { truncatedNormalInt, uniformIndex } from './sampling.js';
import type { Workload, WorkloadApi } from './workload.js';

/** A normal distribution of token counts clipped to [min, max]; draws are rounded to integers. */
export interface LengthDistribution {
  mean: number;
  sd: number;
  min: number;
  max: number;
}

export interface RandomWorkloadOptions {
  models: string[];
  promptTokens: LengthDistribution;
  /** Sent as `max_tokens`; a real engine may stop earlier at an end-of-sequence token. */
  outputTokens: LengthDistribution;
  /** Default chat. */
  api?: WorkloadApi;
}

function checkDistribution(name: string, d: LengthDistribution): void {
  const ok = [d.mean, d.sd, d.min, d.max].every(Number.isFinite) && d.sd >= 0 && d.min >= 1 && d.min <= d.max;
  if (!ok) throw new RangeError(`${name} must have finite mean and sd >= 0, and 1 <= min <= max; got ${JSON.stringify(d)}`);
}

export function randomWorkload(o: RandomWorkloadOptions): Workload {
  requireModels(o.models);
  checkDistribution('promptTokens', o.promptTokens);
  checkDistribution('outputTokens', o.outputTokens);
  const api = o.api ?? 'chat';
  return {
    name: 'random',
    next(i, random) {
      const model = o.models[uniformIndex(random, o.models.length)] ?? '';
      const promptTokens = truncatedNormalInt(random, o.promptTokens);
      const maxTokens = truncatedNormalInt(random, o.outputTokens);
      const user = fillerText(random, promptTokens, `Request ${i}: `);
      return buildRequest(pickApi(api, random), { model, user, maxTokens });
    },
  };
}
