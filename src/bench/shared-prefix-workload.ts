/** llm-d's shared-prefix workload: G groups, each with its own long system prompt, asked U fixed questions each. */
import { seededRandom } from '../seeded-random.js';
import { fillerText } from './filler-text.js';
import { buildRequest, pickApi, requireInt, requireModels } from './request-body.js';
import { uniformIndex, weightedIndex, zipfCumulative } from './sampling.js';
import type { Workload, WorkloadApi } from './workload.js';

export interface SharedPrefixOptions {
  /** Group g is always sent to `models[g % models.length]`: a prefix is only cacheable within one model. */
  models: string[];
  groups: number;
  systemPromptTokens: number;
  /** Users per group; each user has one fixed question, so a (group, user) pair repeats the whole prompt. */
  users: number;
  questionTokens: number;
  maxTokens: number;
  /** Seeds the prompt texts (default 1); which pair is asked next comes from the run's PRNG. */
  seed?: number;
  /** Default chat (system + user message); completions put the system prompt first in `prompt`. */
  api?: WorkloadApi;
  /**
   * Characters per token of the simulators served (`infergate sim --chars-per-token`, default 4): the texts are
   * sized so the engines count `systemPromptTokens` and `questionTokens` whatever the ratio.
   */
  charsPerToken?: number;
  /**
   * How unequal the groups' popularity is: group g is drawn with weight 1 / (g + 1)^groupZipf. 0 (the default) draws
   * them uniformly, as llm-d's benchmark does; with 1 and 20 groups the first takes 28% of the requests, the second
   * 14%, the last 1.4%.
   */
  groupZipf?: number;
}

/**
 * llm-d's benchmark is 150 groups x 6k-token system prompts x 5 users on 16 H100s; these defaults keep its shape
 * at a size a laptop and the simulator handle.
 */
export const SHARED_PREFIX_DEFAULTS = { groups: 10, systemPromptTokens: 1000, users: 5, questionTokens: 100, maxTokens: 32 } as const;

/** Each request is one (group, user) pair drawn uniformly: its group's system prompt, then that user's question. */
export function sharedPrefixWorkload(o: SharedPrefixOptions): Workload {
  requireModels(o.models);
  const groups = requireInt('groups', o.groups, 1);
  const users = requireInt('users', o.users, 1);
  requireInt('systemPromptTokens', o.systemPromptTokens, 1);
  requireInt('questionTokens', o.questionTokens, 1);
  const maxTokens = requireInt('maxTokens', o.maxTokens, 1);
  const api = o.api ?? 'chat';
  const zipf = o.groupZipf ?? 0;
  if (!(zipf >= 0)) throw new RangeError(`groupZipf must be a number from 0, got ${o.groupZipf}`);
  const popularity = zipf === 0 ? undefined : zipfCumulative(groups, zipf);
  const textRandom = seededRandom(o.seed ?? 1);
  // The group number leads so prompts differ from their first KV block on, like unrelated system prompts.
  const systemPrompts = Array.from({ length: groups }, (_, g) => fillerText(textRandom, o.systemPromptTokens, `Group ${g} instructions: `, o.charsPerToken));
  const questions = Array.from({ length: groups * users }, (_, k) => fillerText(textRandom, o.questionTokens, `User ${k % users} asks: `, o.charsPerToken));
  return {
    name: 'shared-prefix',
    next(_i, random) {
      const g = popularity === undefined ? uniformIndex(random, groups) : weightedIndex(random, popularity);
      const u = uniformIndex(random, users);
      return buildRequest(pickApi(api, random), {
        model: o.models[g % o.models.length] ?? '',
        system: systemPrompts[g] ?? '',
        user: questions[g * users + u] ?? '',
        maxTokens,
        tags: { group: String(g), user: String(u) },
      });
    },
  };
}
