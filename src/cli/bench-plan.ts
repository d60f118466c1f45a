/** `infergate bench` flags -> a validated plan: the loads of a sweep, the run limits and the workload to build. */
import { numberFlag, secondsFlag } from './parse-flags.js';
import { jsonlWorkload } from '../bench/jsonl-workload.js';
import { multiModelWorkload } from '../bench/multi-model-workload.js';
import { randomWorkload } from '../bench/random-workload.js';
import type { Load } from '../bench/run-bench.js';
import { SHARED_PREFIX_DEFAULTS, sharedPrefixWorkload } from '../bench/shared-prefix-workload.js';
import type { Workload, WorkloadApi } from '../bench/workload.js';

export const WORKLOAD_KINDS = ['shared-prefix', 'multi-model', 'random', 'jsonl'] as const;
export type WorkloadKind = (typeof WORKLOAD_KINDS)[number];
const APIS: readonly WorkloadApi[] = ['chat', 'completions', 'mixed'];

/** The flags as commander hands them over: strings, validated by `benchPlanFromFlags`. */
export interface BenchFlags {
  url: string;
  workload: string;
  file?: string;
  models?: string;
  rate?: string;
  concurrency?: string;
  requests: string;
  duration: string;
  grace: string;
  retries: string;
  /** commander's `--no-stream`: true unless given. */
  stream: boolean;
  seed: string;
  out?: string;
  label?: string;
  api?: string;
  groups?: string;
  systemPromptTokens?: string;
  users?: string;
  questionTokens?: string;
  promptTokens?: string;
  maxTokens?: string;
}

/** Workload knobs after validation; each applies to the workloads named in `KNOB_OWNERS`. */
export interface WorkloadSpec {
  kind: WorkloadKind;
  file?: string;
  api?: WorkloadApi;
  groups: number;
  systemPromptTokens: number;
  users: number;
  questionTokens: number;
  promptTokens: number;
  maxTokens: number;
}

export interface BenchPlan {
  url: string;
  workload: WorkloadSpec;
  /** Models given with --models; absent: ask the URL's GET /v1/models (jsonl names its own). */
  models?: string[];
  /** One run per entry: each --rate, or the one closed-loop concurrency. */
  loads: Load[];
  maxRequests: number;
  durationS: number;
  graceS: number;
  retries: number;
  stream: boolean;
  seed: number;
  out?: string;
  label?: string;
  /** From OPENAI_API_KEY: sent as `Authorization: Bearer` to --url. */
  apiKey?: string;
}

/** Closed loop at this concurrency when neither --rate nor --concurrency is given. */
export const DEFAULT_CONCURRENCY = 8;
/** Prompt length of the multi-model and random workloads when --prompt-tokens is not given. */
export const DEFAULT_PROMPT_TOKENS = 128;

/** Which workloads read a knob; a knob given to another one is a mistake worth reporting. */
const KNOB_OWNERS: Record<string, { flag: string; kinds: WorkloadKind[] }> = {
  groups: { flag: '--groups', kinds: ['shared-prefix'] },
  systemPromptTokens: { flag: '--system-prompt-tokens', kinds: ['shared-prefix'] },
  users: { flag: '--users', kinds: ['shared-prefix'] },
  questionTokens: { flag: '--question-tokens', kinds: ['shared-prefix'] },
  promptTokens: { flag: '--prompt-tokens', kinds: ['multi-model', 'random'] },
  maxTokens: { flag: '--max-tokens', kinds: ['shared-prefix', 'multi-model', 'random'] },
  api: { flag: '--api', kinds: ['shared-prefix', 'multi-model', 'random'] },
  models: { flag: '--models', kinds: ['shared-prefix', 'multi-model', 'random'] },
};

function list(value: string): string[] {
  return value.split(',').map((s) => s.trim()).filter((s) => s !== '');
}

function loadsFrom(flags: BenchFlags): Load[] {
  if (flags.rate !== undefined && flags.concurrency !== undefined) throw new Error('give --rate (open loop) or --concurrency (closed loop), not both');
  if (flags.rate !== undefined) {
    const rates = list(flags.rate).map((r) => numberFlag('--rate', r, 0.001, 100_000, false));
    if (rates.length === 0) throw new Error('--rate needs at least one rate, e.g. --rate 2,4,8');
    return rates.map((rate) => ({ kind: 'open', rate }));
  }
  const concurrency = flags.concurrency === undefined ? DEFAULT_CONCURRENCY : numberFlag('--concurrency', flags.concurrency, 1, 100_000, true);
  return [{ kind: 'closed', concurrency }];
}

function workloadFrom(flags: BenchFlags): WorkloadSpec {
  const kind = WORKLOAD_KINDS.find((k) => k === flags.workload);
  if (kind === undefined) throw new Error(`--workload must be one of ${WORKLOAD_KINDS.join(', ')}, got "${flags.workload}"`);
  for (const [key, owner] of Object.entries(KNOB_OWNERS)) {
    if (flags[key as keyof BenchFlags] !== undefined && !owner.kinds.includes(kind)) {
      throw new Error(`${owner.flag} does not apply to --workload ${kind} (it is for ${owner.kinds.join(', ')})`);
    }
  }
  if (kind === 'jsonl' && (flags.file === undefined || flags.file === '')) throw new Error('--workload jsonl needs --file PATH (one JSON request per line)');
  if (kind !== 'jsonl' && flags.file !== undefined) throw new Error('--file is for --workload jsonl only');
  if (flags.api !== undefined && !APIS.includes(flags.api as WorkloadApi)) throw new Error(`--api must be one of ${APIS.join(', ')}, got "${flags.api}"`);
  const tokens = (flag: string, value: string | undefined, fallback: number): number =>
    value === undefined ? fallback : numberFlag(flag, value, 1, 1_000_000, true);
  const spec: WorkloadSpec = {
    kind,
    groups: tokens('--groups', flags.groups, SHARED_PREFIX_DEFAULTS.groups),
    systemPromptTokens: tokens('--system-prompt-tokens', flags.systemPromptTokens, SHARED_PREFIX_DEFAULTS.systemPromptTokens),
    users: tokens('--users', flags.users, SHARED_PREFIX_DEFAULTS.users),
    questionTokens: tokens('--question-tokens', flags.questionTokens, SHARED_PREFIX_DEFAULTS.questionTokens),
    promptTokens: tokens('--prompt-tokens', flags.promptTokens, DEFAULT_PROMPT_TOKENS),
    maxTokens: tokens('--max-tokens', flags.maxTokens, SHARED_PREFIX_DEFAULTS.maxTokens),
  };
  if (flags.file !== undefined) spec.file = flags.file;
  if (flags.api !== undefined) spec.api = flags.api as WorkloadApi;
  return spec;
}

/**
 * The server's root without a trailing slash. An OpenAI client's base URL (`OPENAI_BASE_URL`, `http://host:8080/v1`)
 * names the same server: its `/v1` is dropped, since the runner adds `/v1/...` to every path itself.
 */
function baseUrl(flag: string): string {
  return flag.replace(/\/+$/, '').replace(/\/v1$/, '');
}

/**
 * The API key to send, from `OPENAI_API_KEY` as `vllm bench serve` and the OpenAI clients read it (never a flag, so
 * `ps` never shows it); unset or empty: none.
 */
function apiKeyOf(env: NodeJS.ProcessEnv): string | undefined {
  const key = env.OPENAI_API_KEY?.trim();
  if (key === undefined || key === '') return undefined;
  if (/\s/.test(key)) throw new Error('OPENAI_API_KEY must contain no whitespace (it is sent as `Authorization: Bearer <key>`)');
  return key;
}

/** Throws an Error whose message names the bad flag (or variable). */
export function benchPlanFromFlags(flags: BenchFlags, env: NodeJS.ProcessEnv = process.env): BenchPlan {
  let url: URL;
  try {
    url = new URL(flags.url);
  } catch {
    throw new Error(`--url must be an absolute http(s) URL such as http://127.0.0.1:8080, got "${flags.url}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`--url must use http or https, got "${flags.url}"`);
  // An endpoint pasted from an OpenAI example: the requests would go to .../chat/completions/v1/chat/completions.
  const endpoint = /\/v1\/(chat\/completions|completions|models)\/*$/.exec(url.pathname);
  if (endpoint !== null) {
    throw new Error(`--url is the server's base URL, not an endpoint: the bench adds /v1/chat/completions, /v1/completions and /v1/models itself; give "${url.origin}${url.pathname.slice(0, endpoint.index)}", got "${flags.url}"`);
  }
  const plan: BenchPlan = {
    url: baseUrl(flags.url),
    workload: workloadFrom(flags),
    loads: loadsFrom(flags),
    maxRequests: numberFlag('--requests', flags.requests, 1, 10_000_000, true),
    durationS: secondsFlag('--duration', flags.duration, 0.001, 7 * 24 * 3600),
    graceS: secondsFlag('--grace', flags.grace, 0, 3600),
    retries: numberFlag('--retries', flags.retries, 0, 100, true),
    stream: flags.stream,
    seed: numberFlag('--seed', flags.seed, 0, 2 ** 32 - 1, true),
  };
  if (flags.models !== undefined) {
    plan.models = list(flags.models);
    if (plan.models.length === 0) throw new Error('--models needs at least one model name, e.g. --models base,adapter');
  }
  if (flags.out !== undefined) plan.out = flags.out;
  if (flags.label !== undefined) plan.label = flags.label;
  const apiKey = apiKeyOf(env);
  if (apiKey !== undefined) plan.apiKey = apiKey;
  return plan;
}

/**
 * Builds the workload; `models` is required except for jsonl. The random workload spreads lengths around the
 * given means (sd = mean / 4, clipped to [1, 4 x mean]).
 */
export async function buildWorkload(spec: WorkloadSpec, models: string[], seed: number): Promise<Workload> {
  const api = spec.api === undefined ? {} : { api: spec.api };
  switch (spec.kind) {
    case 'jsonl':
      return jsonlWorkload(spec.file ?? '');
    case 'shared-prefix': {
      const { groups, systemPromptTokens, users, questionTokens, maxTokens } = spec;
      return sharedPrefixWorkload({ models, groups, systemPromptTokens, users, questionTokens, maxTokens, seed, ...api });
    }
    case 'multi-model':
      return multiModelWorkload({ models, promptTokens: spec.promptTokens, maxTokens: spec.maxTokens, ...api });
    case 'random': {
      const around = (mean: number): { mean: number; sd: number; min: number; max: number } => ({ mean, sd: mean / 4, min: 1, max: 4 * mean });
      return randomWorkload({ models, promptTokens: around(spec.promptTokens), outputTokens: around(spec.maxTokens), ...api });
    }
  }
}
