/**
 * `prefix-based-pd-decider` (llm-d): prefill runs on a prefill pod when the part of the prompt the decode pod does
 * not hold in its KV cache is at least `nonCachedTokens` long; a shorter one is cheaper to prefill where it decodes.
 */
import type { Endpoint } from '../../datastore/endpoint.js';
import type { ConfigLinked, LinkableConfig, LinkReport, SchedulingContext } from '../../framework/plugin.js';
import type { PluginFactory } from '../../framework/registry.js';
import { TOKENIZED_PROMPT_KEY, type TokenizedPrompt } from '../tokenized-prompt.js';
import { isCachedTokenSource, type CachedTokenSource, type DisaggDecider } from './disagg-decider.js';

export const PREFIX_BASED_PD_DECIDER_TYPE = 'prefix-based-pd-decider';

/** llm-d's estimate of a token where no token-producer counted them (its `estimate` tokenizer backend). */
const CHARS_PER_TOKEN = 4;

export class PrefixBasedPdDecider implements DisaggDecider, ConfigLinked {
  readonly type = PREFIX_BASED_PD_DECIDER_TYPE;
  readonly name: string;
  /** Uncached tokens from which prefill is disaggregated; 0 turns the decider off (it always says no), as llm-d's. */
  readonly nonCachedTokens: number;
  /** Prompts shorter than this never disaggregate; 0: no such gate. */
  readonly promptTokens: number;
  #sources: readonly CachedTokenSource[] = [];

  constructor(name: string, nonCachedTokens: number, promptTokens: number) {
    this.name = name;
    this.nonCachedTokens = nonCachedTokens;
    this.promptTokens = promptTokens;
  }

  /**
   * Reads cached prefixes from the config's prefix-cache scorers. Warns when there is none, since the decider then
   * never disaggregates (llm-d logs an error at every request instead).
   */
  link(config: LinkableConfig): LinkReport {
    this.#sources = [...config.plugins.values()].filter(isCachedTokenSource);
    const warnings = this.#sources.length > 0 || this.nonCachedTokens === 0 ? [] : ["reads the decode pod's cached prefix from a prefix-cache-scorer (or precise-prefix-cache-scorer) of the decode profile, and this config has none: it never disaggregates"];
    return { issues: [], warnings };
  }

  disaggregate(ctx: SchedulingContext, decode: Endpoint | undefined): boolean {
    if (this.nonCachedTokens === 0 || decode === undefined) return false;
    const prompt = promptTokenCount(ctx);
    if (this.promptTokens > 0 && prompt < this.promptTokens) return false;
    if (prompt < this.nonCachedTokens) return false;
    for (const s of this.#sources) {
      const cached = s.cachedTokens(ctx, decode);
      if (cached !== undefined) return prompt - cached >= this.nonCachedTokens;
    }
    // No prefix state for this request: as llm-d, the decode pod does the whole request.
    return false;
  }
}

/** The prompt's tokens as a token-producer counted them, else estimated from its text. */
export function promptTokenCount(ctx: SchedulingContext): number {
  const tokenized = ctx.state.read<TokenizedPrompt>(TOKENIZED_PROMPT_KEY);
  if (tokenized !== undefined) return tokenized.tokens.length;
  return Math.ceil(ctx.request.prompt.length / CHARS_PER_TOKEN);
}

/** llm-d's parameters: `nonCachedTokens` (default 0: off) and `promptTokens` (default 0: no gate), both >= 0. */
export const prefixBasedPdDeciderFactory: PluginFactory = (name, _p, r) => {
  const nonCachedTokens = r.int('nonCachedTokens', 0, { min: 0 });
  const promptTokens = r.int('promptTokens', 0, { min: 0 });
  if (nonCachedTokens === 0) r.warn('nonCachedTokens is 0, so this decider never disaggregates (llm-d\'s default); set it to the uncached prompt tokens from which a prefill pod should take the prefill, e.g. 512');
  return new PrefixBasedPdDecider(name, nonCachedTokens, promptTokens);
};
