/**
 * The scheduling framework's contracts, after GIE/llm-d: filters narrow the candidates, scorers rate them,
 * a picker chooses, and hooks learn from the choice. Plugins are stateless per request; anything that must
 * flow between plugins of one request goes through the CycleState.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { CycleState } from './cycle-state.js';
import type { SchedulingRequest } from './scheduling-request.js';

export interface SchedulingContext {
  readonly request: SchedulingRequest;
  readonly state: CycleState;
  /** Key (`namespace/name`) of the InferencePool being scheduled. */
  readonly pool: string;
  /** ms since epoch, fixed for the whole cycle so plugins agree on staleness. */
  readonly now: number;
  readonly random: () => number;
}

/** Every plugin has the llm-d type string it is configured by, and an instance name (defaults to the type). */
export interface Plugin {
  readonly type: string;
  readonly name: string;
}

/** Returns the endpoints that may serve the request, a subset of its input in the same order. */
export interface Filter extends Plugin {
  filter(ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[];
  /** Optional: when this filter kept nothing, why, in words for the client's 503 (e.g. a header it needs is missing). */
  whyEmpty?(ctx: SchedulingContext): string;
}

/**
 * Rates every candidate. Invariant: returns one score per input endpoint, in the same order, each in [0, 1]
 * where 1 is best. A scorer with nothing to go on returns the same score for all (it then does not sway).
 * The result may be a plain array or a typed array; the caller only reads it, and never after the next call.
 */
export interface Scorer extends Plugin {
  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): ArrayLike<number>;
  /**
   * Optional, asked only when the cycle is traced (`explain`, `/debug/scheduling`), right after `score` with the same
   * arguments: what the scores were based on when that is not what the scorer's type suggests (a precise prefix
   * score that fell back on the approximate view). Undefined when there is nothing to say.
   */
  scoreNotes?(ctx: SchedulingContext, endpoints: readonly Endpoint[]): ScoreNotes | undefined;
}

/** What {@link Scorer.scoreNotes} says: of the scores as a whole, and of some endpoints by address. */
export interface ScoreNotes {
  readonly basis?: string;
  readonly endpoints?: Readonly<Record<string, string>>;
}

/**
 * Chooses one endpoint given the weighted total score of each (`totals[i]` belongs to `endpoints[i]`);
 * undefined only when `endpoints` is empty.
 */
export interface Picker extends Plugin {
  pick(ctx: SchedulingContext, endpoints: readonly Endpoint[], totals: ArrayLike<number>): Endpoint | undefined;
  /** llm-d's `maxNumOfEndpoints`: how many endpoints `pickRanked` returns (primary first, then fallbacks). */
  readonly maxNumOfEndpoints?: number;
  /** At most `maxNumOfEndpoints` distinct endpoints, primary first; used instead of `pick` when that is above 1. */
  pickRanked?(ctx: SchedulingContext, endpoints: readonly Endpoint[], totals: ArrayLike<number>): readonly Endpoint[];
}

/** Runs after the pick, before the request is sent (llm-d's PreRequest): e.g. record the prompt's prefix there. */
export interface PreRequest extends Plugin {
  preRequest(ctx: SchedulingContext, picked: Endpoint): void;
}

/** Runs when the response to a picked request completed or failed, e.g. to release a count. */
export interface ResponseComplete extends Plugin {
  responseComplete(ctx: SchedulingContext, endpoint: Endpoint): void;
}

/**
 * Runs when the proxy is about to send the response headers of a request `served` answered (llm-d's
 * ResponseHeaderProcessor): e.g. session affinity writes the token the client echoes on its next request.
 */
export interface ResponseHeaders extends Plugin {
  responseHeaders(ctx: SchedulingContext, served: Endpoint, set: (name: string, value: string) => void): void;
}

/**
 * Runs once per request before the scheduling cycle (llm-d's DataProducer, PrepareRequestData phase): puts in the
 * CycleState what scorers read (a prompt's tokens, its precise prefix match). `wait` false (the ext_proc picker,
 * which answers synchronously) means use what is at hand now and fetch the rest in the background. Returns a
 * promise only when it waits; it bounds the wait itself and never rejects.
 */
export interface DataProducer extends Plugin {
  /** CycleState keys this producer reads that another produces: it runs after the producers of those keys. */
  readonly consumes?: readonly string[];
  /** The CycleState key it writes. */
  readonly produces?: string;
  produce(ctx: SchedulingContext, endpoints: readonly Endpoint[], wait: boolean): Promise<void> | void;
}

/**
 * Decides, once per request after its data producers and before its first schedule, whether the request is served
 * at all (llm-d's Admitter, requestcontrol's admission step): returns why it is refused, or undefined to admit. A
 * refusal is answered 429 `request_shed`. Runs whether flow control is on or not (after its queue, when on).
 */
export interface Admitter extends Plugin {
  admit(ctx: SchedulingContext, candidates: readonly Endpoint[]): string | undefined;
}

/** A response's `usage` as llm-d hands it to reporters (its `Usage` as JSON): token counts, numbers. */
export interface UsageObject {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens: number };
}

/** One value for the data plane's dynamic metadata: `namespace` (e.g. `envoy.lb`) -> `name` -> `value`. */
export interface ReportedAttribute {
  readonly namespace: string;
  readonly name: string;
  readonly value: number;
}

/**
 * Runs once a response has ended with its `usage` (llm-d's ResponseBody processors that report, such as
 * request-attribute-reporter): a value the ext_proc picker hands the data plane as dynamic metadata on its last
 * answer, so Envoy can charge a request by its tokens. Undefined: nothing to report for this response. Throws when
 * its expression fails on this usage; the caller logs that and goes on.
 */
export interface UsageReporter extends Plugin {
  report(usage: Readonly<UsageObject>): ReportedAttribute | undefined;
}

/** A plugin that reads a CycleState key some DataProducer of the same config must write (checked at build). */
export interface DataConsumer extends Plugin {
  /** The keys and the parameter that named each (for the message). */
  readonly requiredData: readonly { key: string; field: string }[];
}

/** A plugin that keeps state per endpoint address; `forget` drops it when the endpoint leaves every pool. */
export interface EndpointStateHolder extends Plugin {
  forget(address: string): void;
}

/** What a {@link ConfigLinked} plugin can look up once the whole config is built. */
export interface LinkableConfig {
  readonly plugins: ReadonlyMap<string, Plugin>;
  /** Scheduling profile names, in config order. */
  readonly profiles: readonly string[];
  /** Plugins the config declares that failed to load: each has its own error, so a reference to one is not a second. */
  readonly failed: ReadonlySet<string>;
}

/** Problems (the config does not load) and warnings a plugin finds in its references; `field` is under `parameters`. */
export interface LinkReport {
  issues: { field: string; message: string }[];
  warnings: string[];
}

/**
 * A plugin whose parameters name other plugins or profiles of its config (llm-d's `pluginRef` parameters, a
 * profile handler's profile names): linked once every plugin and profile of the config is built.
 */
export interface ConfigLinked extends Plugin {
  link(config: LinkableConfig): LinkReport;
}

/** A guard for the contract whose defining method is `method`: a plugin implements it by having that method. */
function implementing<T extends Plugin>(method: keyof T): (p: Plugin) => p is T {
  return (p): p is T => typeof (p as Partial<T>)[method] === 'function';
}

export const isFilter = implementing<Filter>('filter');
export const isScorer = implementing<Scorer>('score');
export const isPicker = implementing<Picker>('pick');
export const isPreRequest = implementing<PreRequest>('preRequest');
export const isResponseComplete = implementing<ResponseComplete>('responseComplete');
export const isResponseHeaders = implementing<ResponseHeaders>('responseHeaders');
export const isEndpointStateHolder = implementing<EndpointStateHolder>('forget');
export const isDataProducer = implementing<DataProducer>('produce');
export const isConfigLinked = implementing<ConfigLinked>('link');
export const isAdmitter = implementing<Admitter>('admit');
export const isUsageReporter = implementing<UsageReporter>('report');
