/** Helpers for engine tests: an engine on a ManualClock, requests by shape, and listeners that timestamp tokens. */
import type { EngineConfig } from './engine-config.js';
import type { EngineObserver } from './engine-observer.js';
import type { EngineRequest, Generation, GenerationListener, GenerationResult } from './generation.js';
import { seededRandom } from '../seeded-random.js';
import { DEFAULT_ENGINE_CONFIG } from './engine-config.js';
import type { KvStepListener } from './engine.js';
import { Engine } from './engine.js';
import { ManualClock } from './manual-clock.js';

/** What one listener received, with the virtual time of each token. */
export interface Recorded extends GenerationListener {
  readonly tokens: string[];
  readonly reasons: Array<string | null>;
  /** Clock time of each token. */
  readonly times: number[];
  result?: GenerationResult;
  finishedAt?: number;
  generation?: Generation;
}

/** Observer events, summed. */
export interface Observed {
  scheduled: Array<{ promptTokens: number; queueSeconds: number }>;
  queried: number;
  hits: number;
  preemptions: number;
  ttfts: number[];
  itls: number[];
  tokens: number;
  finished: number;
}

export interface EngineHarness {
  readonly clock: ManualClock;
  readonly engine: Engine;
  readonly observed: Observed;
  /** Submits a request and returns its recorder. */
  submit(req: Partial<EngineRequest> & { outputTokens?: number }): Recorded;
}

/** A prompt of exactly `tokens` tokens (4 characters each); prompts with different `tag`s (1-3 characters) share no block. */
export function prompt(tokens: number, tag = 'a'): string {
  return `${tag}:...`.slice(0, 4).repeat(tokens);
}

function recorder(clock: ManualClock): Recorded {
  const r: Recorded = {
    tokens: [],
    reasons: [],
    times: [],
    onToken(text, _i, reason) {
      r.tokens.push(text);
      r.reasons.push(reason);
      r.times.push(clock.now());
    },
    onFinish(result) {
      r.result = result;
      r.finishedAt = clock.now();
    },
  };
  return r;
}

/** Gaps between consecutive token times. */
export function gaps(times: readonly number[]): number[] {
  return times.slice(1).map((t, i) => t - times[i]!);
}

export function engineHarness(overrides: Partial<EngineConfig> = {}, seed = 1, kvEvents: KvStepListener | null = null): EngineHarness {
  const clock = new ManualClock();
  const observed: Observed = { scheduled: [], queried: 0, hits: 0, preemptions: 0, ttfts: [], itls: [], tokens: 0, finished: 0 };
  const observer: EngineObserver = {
    requestScheduled: (promptTokens, queueSeconds) => observed.scheduled.push({ promptTokens, queueSeconds }),
    prefixCacheQueried: (q, h) => {
      observed.queried += q;
      observed.hits += h;
    },
    requestPreempted: () => observed.preemptions++,
    firstToken: (s) => observed.ttfts.push(s),
    interTokenLatency: (s) => observed.itls.push(s),
    tokenGenerated: () => observed.tokens++,
    requestFinished: () => observed.finished++,
  };
  const config = { ...DEFAULT_ENGINE_CONFIG, ...overrides };
  const engine = new Engine(config, { clock, observer, random: seededRandom(seed), kvEvents });
  return {
    clock,
    engine,
    observed,
    submit({ outputTokens = 4, ...req }) {
      const r = recorder(clock);
      const promptText = req.promptText ?? 'p';
      r.generation = engine.submit(
        {
          lora: req.lora ?? null,
          promptText,
          promptTokens: req.promptTokens ?? Math.ceil(promptText.length / 4),
          output: req.output ?? Array.from({ length: outputTokens }, (_, i) => ` t${i}`),
          maxTokens: req.maxTokens ?? null,
          ...(req.remotePrefilled !== undefined ? { remotePrefilled: req.remotePrefilled } : {}),
        },
        r,
      );
      return r;
    },
  };
}
