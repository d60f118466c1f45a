/**
 * `concurrency-detector` (llm-d): saturation from what this gateway has in flight to each endpoint, against a
 * limit per endpoint: requests (`maxConcurrency`), estimated tokens (`maxTokenConcurrency`), or both
 * (`hybrid`). It reacts as soon as a request is dispatched, with no scrape lag, and as a filter keeps the
 * endpoints below their limit.
 */
import type { Endpoint } from '../epp/datastore/endpoint.js';
import type { EndpointStateHolder, Filter, PreRequest, ResponseComplete, SchedulingContext } from '../epp/framework/plugin.js';
import type { PluginFactory } from '../epp/framework/registry.js';
import { InFlightTokens, estimateRequestTokens } from './in-flight-tokens.js';

export const CONCURRENCY_DETECTOR_TYPE = 'concurrency-detector';
/** llm-d's default in-flight limit per endpoint. */
export const DEFAULT_MAX_CONCURRENCY = 100;
/** llm-d's default in-flight token limit per endpoint. */
export const DEFAULT_MAX_TOKEN_CONCURRENCY = 1_000_000;

/** llm-d's `concurrencyMode`: what is counted in flight. */
export type ConcurrencyMode = 'requests' | 'tokens' | 'hybrid';

export class ConcurrencyDetector implements Filter {
  readonly type = CONCURRENCY_DETECTOR_TYPE;
  readonly name: string;
  readonly maxConcurrency: number;
  /** Burst allowance of the filter over `maxConcurrency`, as a fraction. */
  readonly headroom: number;
  readonly mode: ConcurrencyMode = 'requests';

  constructor(name: string = CONCURRENCY_DETECTOR_TYPE, maxConcurrency = DEFAULT_MAX_CONCURRENCY, headroom = 0) {
    this.name = name;
    this.maxConcurrency = maxConcurrency;
    this.headroom = headroom;
  }

  /**
   * In flight / capacity over the pool. In flight is the endpoints' own counts (from the pick on), or
   * `dispatched` (what flow control let through, picked or not yet) when that is more. An empty pool is 1
   * (nothing can take a request). Never stale: the counts are the gateway's own.
   */
  saturation(endpoints: readonly Endpoint[], dispatched = 0): number {
    if (endpoints.length === 0) return 1;
    let inFlight = 0;
    for (const ep of endpoints) inFlight += ep.inFlight;
    return Math.max(inFlight, dispatched) / (this.maxConcurrency * endpoints.length);
  }

  /** Whether `ep` is below its limit (with `headroom`). */
  admits(ep: Endpoint): boolean {
    return ep.inFlight < this.maxConcurrency * (1 + this.headroom);
  }

  filter(_ctx: SchedulingContext, endpoints: readonly Endpoint[]): readonly Endpoint[] {
    let kept = 0;
    for (const ep of endpoints) if (this.admits(ep)) kept++;
    // As llm-d: when every endpoint is full the filter keeps them all; holding back is flow control's job.
    if (kept === endpoints.length || kept === 0) return endpoints;
    return endpoints.filter((ep) => this.admits(ep));
  }
}

/**
 * The `tokens` and `hybrid` modes: the detector also keeps the estimated tokens in flight per endpoint,
 * added at the pick (PreRequest) and taken back when the response ends (ResponseComplete), so it must be in
 * the scheduling profile that picks (the default profile holds every plugin). Requests mode has no hooks and
 * costs nothing per request.
 */
export class TokenConcurrencyDetector extends ConcurrencyDetector implements PreRequest, ResponseComplete, EndpointStateHolder {
  override readonly mode: 'tokens' | 'hybrid';
  readonly maxTokenConcurrency: number;
  readonly tokens = new InFlightTokens();
  /** The CycleState key of the tokens a request added to an endpoint, so the same amount is taken back. */
  readonly #key: string;

  constructor(name: string, mode: 'tokens' | 'hybrid', maxConcurrency: number, maxTokenConcurrency: number, headroom = 0) {
    super(name, maxConcurrency, headroom);
    this.mode = mode;
    this.maxTokenConcurrency = maxTokenConcurrency;
    this.#key = `${name}/in-flight-tokens`;
  }

  /**
   * `tokens`: tokens in flight / (`maxTokenConcurrency` x endpoints). `hybrid` (llm-d): the mean over
   * endpoints of each one's larger ratio, requests or tokens, so endpoints full on different dimensions are not
   * averaged away; and at least flow control's own `dispatched` over the request capacity, as in requests mode
   * (a request dispatched but not yet picked has no tokens counted yet).
   */
  override saturation(endpoints: readonly Endpoint[], dispatched = 0): number {
    if (endpoints.length === 0) return 1;
    if (this.mode === 'tokens') {
      let tokens = 0;
      for (const ep of endpoints) tokens += this.tokens.of(ep.address);
      return tokens / (this.maxTokenConcurrency * endpoints.length);
    }
    let sum = 0;
    for (const ep of endpoints) sum += Math.max(ep.inFlight / this.maxConcurrency, this.tokens.of(ep.address) / this.maxTokenConcurrency);
    return Math.max(sum / endpoints.length, dispatched / (this.maxConcurrency * endpoints.length));
  }

  /** `tokens`: below `maxTokenConcurrency` (with headroom); `hybrid`: below both limits. */
  override admits(ep: Endpoint): boolean {
    const tokensOk = this.tokens.of(ep.address) < this.maxTokenConcurrency * (1 + this.headroom);
    return this.mode === 'tokens' ? tokensOk : tokensOk && super.admits(ep);
  }

  preRequest(ctx: SchedulingContext, picked: Endpoint): void {
    const n = estimateRequestTokens(ctx.request);
    if (n === 0) return;
    this.tokens.add(picked.address, n);
    let added = ctx.state.read<AddedTokens[]>(this.#key);
    if (added === undefined) ctx.state.write(this.#key, (added = []));
    added.push({ address: picked.address, tokens: n, taken: false });
  }

  /**
   * Takes back what this request added: on the endpoint that answered, or, when the data plane answered from another
   * one than the pick (Envoy down the picker's fallback list), on the pick, so no endpoint keeps tokens for good.
   */
  responseComplete(ctx: SchedulingContext, endpoint: Endpoint): void {
    const added = ctx.state.read<AddedTokens[]>(this.#key);
    if (added === undefined) return;
    const entry = added.find((a) => !a.taken && a.address === endpoint.address) ?? added.find((a) => !a.taken);
    if (entry === undefined) return;
    entry.taken = true;
    this.tokens.remove(entry.address, entry.tokens);
  }

  forget(address: string): void {
    this.tokens.forget(address);
  }
}

/**
 * Parameters, as llm-d's: `concurrencyMode` (`requests` | `tokens` | `hybrid`, default `requests`),
 * `maxConcurrency` (positive integer, 100), `maxTokenConcurrency` (positive integer, 1000000; read in
 * `tokens` and `hybrid`), `headroom` (>= 0, 0).
 */
export const concurrencyDetectorFactory: PluginFactory = (name, _p, r) => {
  const mode = r.oneOf('concurrencyMode', 'requests', ['requests', 'tokens', 'hybrid']);
  r.ignored('inFlightLoadProducerName', 'the detector counts in flight through its own pick hooks; there are no in-flight load producer plugins here');
  const maxConcurrency = r.positiveInt('maxConcurrency', DEFAULT_MAX_CONCURRENCY);
  const headroom = r.number('headroom', 0, { min: 0 });
  if (mode === 'requests') {
    r.ignored('maxTokenConcurrency', 'concurrencyMode "requests" counts requests only');
    return new ConcurrencyDetector(name, maxConcurrency, headroom);
  }
  return new TokenConcurrencyDetector(name, mode, maxConcurrency, r.positiveInt('maxTokenConcurrency', DEFAULT_MAX_TOKEN_CONCURRENCY), headroom);
};

/** Tokens a request added to an endpoint at its pick; taken back once, when its response ends. */
interface AddedTokens {
  readonly address: string;
  readonly tokens: number;
  taken: boolean;
}
