/**
 * `prefix-cache-scorer` (approximate, llm-d/GIE's default): prefers endpoints believed to hold the prompt's prefix.
 * With `prefixMatchInfoProducerName` it scores what that producer found instead (llm-d's precise pipeline), and
 * keeps its own approximate view for the endpoints whose precise view cannot be trusted at the moment.
 */
import type { Endpoint } from '../datastore/endpoint.js';
import type { EndpointStateHolder, PreRequest, SchedulingContext, ScoreNotes, Scorer } from '../framework/plugin.js';
import type { ParamReader, PluginFactory } from '../framework/registry.js';
import { PromptHasher, type BlockHashes } from './prefix-block-hash.js';
import { PrefixIndex, type AddHint } from './prefix-index.js';
import { ScoreBuffer } from '../framework/score-buffer.js';
import { locate, prefixMatchInfoKey, type PrefixMatchInfo } from './prefix-match-info.js';

export const PREFIX_CACHE_SCORER_TYPE = 'prefix-cache-scorer';
/** llm-d's estimate, used since the prompt is not tokenized. */
export const AVERAGE_CHARS_PER_TOKEN = 4;

export interface PrefixCacheParams {
  /** Take the block size from `vllm:cache_config_info` and the LRU capacity from `num_gpu_blocks` when reported. */
  autoTune: boolean;
  /** Bytes per block when neither metrics nor `blockSizeTokens` say otherwise: blockSizeTokens x 4. */
  blockBytes: number;
  maxPrefixBlocksToMatch: number;
  /** When set, caps matching in tokens instead: maxPrefixTokensToMatch / blockSizeTokens blocks. */
  maxPrefixTokensToMatch: number;
  lruCapacityPerServer: number;
  /** llm-d's `prefixMatchInfoProducerName`: score the match info this producer writes (precise prefix); '' = none. */
  prefixMatchInfoProducerName: string;
  /** llm-d's `matchLengthWeight` (0..1): weight of the matched length against the matched ratio. */
  matchLengthWeight: number;
  /** llm-d's `matchLengthScaleTokens`: matched tokens at which the length term reaches 1. */
  matchLengthScaleTokens: number;
}

export const DEFAULT_PREFIX_CACHE_PARAMS: PrefixCacheParams = {
  autoTune: true,
  blockBytes: 16 * AVERAGE_CHARS_PER_TOKEN,
  maxPrefixBlocksToMatch: 256,
  maxPrefixTokensToMatch: 0,
  lruCapacityPerServer: 31_250,
  prefixMatchInfoProducerName: '',
  matchLengthWeight: 0,
  matchLengthScaleTokens: 8192,
};

/** What one cycle computed, kept in the CycleState: PreRequest (and a failover's next cycle) do not rehash. */
export interface PrefixCycleState {
  readonly hashes: BlockHashes;
  readonly blockBytes: number;
  /** Some candidate holds at least the first block (llm-d's no-hit-lru-scorer reads this). */
  hit: boolean;
}

/** The CycleState key of the prefix-cache-scorer instance named `name`. */
export function prefixCycleStateKey(name: string): string {
  return `${PREFIX_CACHE_SCORER_TYPE}/${name}`;
}

/**
 * Told of each pick's prefix match (llm-d's prefix_indexer_hit_ratio and _hit_bytes): how many leading blocks
 * of the prompt the picked endpoint was believed to hold, of how many, and the bytes per block. O(1), no throw.
 */
export type PrefixMatchObserver = (scorer: PrefixCacheScorer, matchedBlocks: number, totalBlocks: number, blockBytes: number) => void;

/** Every this many PreRequests, endpoints whose objects were collected are pruned from the index. */
const PRUNE_EVERY = 4096;
/**
 * Pending index updates are flushed synchronously beyond this many: a bound on memory (~6 KB each) for a
 * caller that never yields. With the event loop turning, the setImmediate flush runs long before.
 */
const MAX_PENDING = 256;
/** Above this many matched endpoints, one address map beats a linear search each. */
const LINEAR_LOCATE_MAX = 8;

/**
 * score = consecutive leading blocks the endpoint is believed to hold / blocks hashed (0 for a prompt shorter
 * than one block). After the pick, PreRequest records the prompt's blocks on the picked endpoint. State lives
 * in the instance, keyed by endpoint address, so it is shared by every pool the instance schedules.
 */
export class PrefixCacheScorer implements Scorer, PreRequest, EndpointStateHolder {
  readonly type = PREFIX_CACHE_SCORER_TYPE;
  readonly name: string;
  readonly #scores = new ScoreBuffer();
  readonly params: PrefixCacheParams;
  readonly index = new PrefixIndex();
  readonly #hasher = new PromptHasher();
  readonly #key: string;
  #adds = 0;
  /**
   * Index updates waiting for the event loop. llm-d records them in a goroutine, off the request's path; here
   * they run in a setImmediate after the pick (the upstream request is sent first), or at once when
   * `deferUpdates` is off or MAX_PENDING are waiting (a caller that never yields still gets them recorded).
   */
  readonly #pending: { hashes: BlockHashes; endpoint: Endpoint; capacity: number; hint: AddHint | undefined }[] = [];
  #flushTimer: NodeJS.Immediate | undefined;
  readonly deferUpdates: boolean;
  /** Set by metrics; unset, nothing is reported. */
  matchObserver: PrefixMatchObserver | undefined;

  constructor(name: string = PREFIX_CACHE_SCORER_TYPE, params: Partial<PrefixCacheParams> = {}, options: { deferUpdates?: boolean } = {}) {
    this.name = name;
    this.deferUpdates = options.deferUpdates ?? true;
    this.params = { ...DEFAULT_PREFIX_CACHE_PARAMS, ...params };
    this.#key = prefixCycleStateKey(name);
    this.#infoKey = this.params.prefixMatchInfoProducerName === '' ? undefined : prefixMatchInfoKey(this.params.prefixMatchInfoProducerName);
  }

  readonly #infoKey: string | undefined;

  /** The producer this scorer reads (checked when the config is built: it must be declared). */
  get requiredData(): readonly { key: string; field: string }[] {
    return this.#infoKey === undefined ? [] : [{ key: this.#infoKey, field: 'prefixMatchInfoProducerName' }];
  }

  score(ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const info = this.#infoKey === undefined ? undefined : ctx.state.read<PrefixMatchInfo>(this.#infoKey);
    if (info && info.totalBlocks > 0) return this.#scorePrecise(ctx, endpoints, info);
    return this.#scoreApproximate(ctx, endpoints);
  }

  /**
   * With a producer named: which scores came from the approximate view rather than the producer's match info (all of
   * them when it wrote none for this request; the endpoints whose KV-event stream is untrusted otherwise), so
   * `/debug/scheduling` and `explain` do not pass a guess off as what the pods reported.
   */
  scoreNotes(ctx: SchedulingContext, endpoints: readonly Endpoint[]): ScoreNotes | undefined {
    if (this.#infoKey === undefined) return undefined;
    const producer = this.params.prefixMatchInfoProducerName;
    const info = ctx.state.read<PrefixMatchInfo>(this.#infoKey);
    if (!info || info.totalBlocks === 0) {
      return { basis: `approximate view: ${producer} has no match info for this request (no tokens from the token-producer in time, a prompt shorter than one block, or no KV-event index, as under explain)` };
    }
    if (info.untrusted.size === 0) return undefined;
    const notes: Record<string, string> = {};
    for (const ep of endpoints) {
      const why = info.untrusted.get(ep.address);
      if (why !== undefined) notes[ep.address] = `approximate view: its KV events are not trusted now (${why})`;
    }
    return { endpoints: notes };
  }

  /**
   * The producer's matches (llm-d: matched / total, with the length term when weighted); an endpoint whose precise
   * view is untrusted keeps its approximate score, so a broken event stream never steers a pick.
   */
  #scorePrecise(ctx: SchedulingContext, endpoints: readonly Endpoint[], info: PrefixMatchInfo): Float64Array {
    const state = this.#state(ctx, endpoints);
    // The untrusted endpoints' approximate scores, set aside before the buffer is reused for the precise ones.
    let kept: [number, number][] | undefined;
    if (info.untrustedLocated.length > 0) {
      const approx = this.#scoreApproximate(ctx, endpoints);
      kept = [];
      for (const ref of info.untrustedLocated) {
        const i = locate(endpoints, ref);
        if (i >= 0) kept.push([i, approx[i] as number]);
      }
    }
    const scores = this.#scores.zeros(endpoints.length);
    let hit = false;
    // A handful of matches (at most podCacheSize), each found by identity: no per-candidate lookup at 1,000 endpoints.
    for (const m of info.located) {
      const i = locate(endpoints, m);
      if (i < 0 || info.untrusted.has(m.address)) continue;
      scores[i] = this.#combine(m.blocks, info.totalBlocks, info.blockSizeTokens);
      if (m.blocks > 0) hit = true;
    }
    for (const [i, s] of kept ?? []) {
      scores[i] = s;
      if (s > 0) hit = true;
    }
    state.hit = hit;
    return scores;
  }

  /** llm-d's score: w x min(1, matched tokens / scale)^2 + (1 - w) x matched / total. */
  #combine(matched: number, total: number, blockTokens: number): number {
    const ratio = matched / total;
    const w = this.params.matchLengthWeight;
    if (w === 0) return ratio;
    const len = Math.min(1, (matched * blockTokens) / this.params.matchLengthScaleTokens);
    return w * len * len + (1 - w) * ratio;
  }

  #scoreApproximate(ctx: SchedulingContext, endpoints: readonly Endpoint[]): Float64Array {
    const n = endpoints.length;
    const scores = this.#scores.zeros(n);
    const state = this.#state(ctx, endpoints);
    const total = state.hashes.count;
    state.hit = false;
    if (total === 0 || n === 0) return scores;
    const matched = this.index.match(state.hashes);
    let byEndpoint: Map<Endpoint, number> | undefined;
    for (const s of matched) {
      const ep = s.endpoint.deref();
      if (!ep) continue;
      let i = s.hint;
      if (endpoints[i] !== ep) {
        if (matched.length <= LINEAR_LOCATE_MAX) i = endpoints.indexOf(ep);
        else i = (byEndpoint ??= new Map(endpoints.map((e, j) => [e, j]))).get(ep) ?? -1;
        if (i < 0) continue;
        s.hint = i;
      }
      scores[i] = this.params.matchLengthWeight === 0 ? s.matched / total : this.#combine(s.matched, total, state.blockBytes / AVERAGE_CHARS_PER_TOKEN);
      state.hit = true;
    }
    return scores;
  }

  /**
   * Prompt tokens `ep` holds by this scorer's view once it scored the request (a P/D decider reads the decode pick's):
   * the producer's precise match where trusted, else the approximate index's. A pick not yet flushed into the index
   * (the same event-loop turn) is not counted.
   */
  cachedTokens(ctx: SchedulingContext, ep: Endpoint): number | undefined {
    const info = this.#infoKey === undefined ? undefined : ctx.state.read<PrefixMatchInfo>(this.#infoKey);
    if (info && info.totalBlocks > 0 && !info.untrusted.has(ep.address)) return (info.matches.get(ep.address) ?? 0) * info.blockSizeTokens;
    const state = ctx.state.read<PrefixCycleState>(this.#key);
    if (state === undefined) return undefined;
    return Math.floor((this.index.matchedBy(state.hashes, ep) * state.blockBytes) / AVERAGE_CHARS_PER_TOKEN);
  }

  preRequest(ctx: SchedulingContext, picked: Endpoint): void {
    const state = this.#state(ctx, [picked]);
    const info = this.#infoKey === undefined ? undefined : ctx.state.read<PrefixMatchInfo>(this.#infoKey);
    if (info && info.totalBlocks > 0 && !info.untrusted.has(picked.address)) {
      this.matchObserver?.(this, info.matches.get(picked.address) ?? 0, info.totalBlocks, info.blockSizeTokens * AVERAGE_CHARS_PER_TOKEN);
    } else this.matchObserver?.(this, this.index.matchedBy(state.hashes, picked), state.hashes.count, state.blockBytes);
    // The producer learns the pick (speculative indexing); this index records it too, to stay a warm fallback.
    info?.picked?.(picked);
    if (state.hashes.count === 0) return;
    if (!this.deferUpdates) {
      this.index.add(state.hashes, picked, this.#capacity(picked));
    } else {
      this.#pending.push({ hashes: state.hashes, endpoint: picked, capacity: this.#capacity(picked), hint: this.index.hint(state.hashes, picked) });
      if (this.#pending.length >= MAX_PENDING) this.flush();
      else this.#flushTimer ??= setImmediate(() => this.flush()).unref();
    }
    if (++this.#adds % PRUNE_EVERY === 0) {
      this.flush();
      this.index.prune();
    }
  }

  /** Records the picks whose index update is still pending (tests, benchmarks; the event loop does it otherwise). */
  flush(): void {
    if (this.#flushTimer) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    for (const p of this.#pending) this.index.add(p.hashes, p.endpoint, p.capacity, p.hint);
    this.#pending.length = 0;
  }

  forget(address: string): void {
    this.flush();
    this.index.forget(address);
  }

  /** Hashes the request once per block size and caches the result in the cycle state. */
  #state(ctx: SchedulingContext, endpoints: readonly Endpoint[]): PrefixCycleState {
    const blockBytes = this.#blockBytes(endpoints);
    const cached = ctx.state.read<PrefixCycleState>(this.#key);
    if (cached && cached.blockBytes === blockBytes) return cached;
    const p = this.params;
    const maxBlocks = p.maxPrefixTokensToMatch > 0 ? Math.floor((p.maxPrefixTokensToMatch * AVERAGE_CHARS_PER_TOKEN) / blockBytes) : p.maxPrefixBlocksToMatch;
    const state: PrefixCycleState = {
      // Blocks are cut on UTF-8 bytes, at least one per character: that many characters cover every block hashed.
      hashes: this.#hasher.hash(ctx.request.model ?? '', ctx.request.promptPrefix?.(blockBytes * maxBlocks) ?? ctx.request.prompt, blockBytes, maxBlocks),
      blockBytes,
      hit: false,
    };
    ctx.state.write(this.#key, state);
    return state;
  }

  /** As llm-d: with autoTune, the first candidate's reported block size (a pool's servers share a config). */
  #blockBytes(endpoints: readonly Endpoint[]): number {
    const reported = this.params.autoTune ? endpoints[0]?.metrics?.blockSize : undefined;
    return reported !== undefined && reported > 0 ? reported * AVERAGE_CHARS_PER_TOKEN : this.params.blockBytes;
  }

  #capacity(ep: Endpoint): number {
    const blocks = this.params.autoTune ? ep.metrics?.numGpuBlocks : undefined;
    return blocks !== undefined && blocks > 0 ? blocks : this.params.lruCapacityPerServer;
  }
}

/**
 * Parameters, by llm-d's names: `autoTune` (default true), `blockSizeTokens` (default 16; a block is
 * blockSizeTokens x 4 bytes of prompt), `maxPrefixBlocksToMatch` (default 256), `maxPrefixTokensToMatch`
 * (default unset; when set it caps in tokens instead), `lruCapacityPerServer` (default 31250).
 * The older character sizes `blockSize` and `hashBlockSize` are accepted with a warning (llm-d now refuses
 * `blockSize` alone); `blockSizeTokens` wins when both are given. llm-d's generic scorer's `prefixMatchInfoProducerName`
 * (score a producer's match info, e.g. `precise-prefix-cache-producer`), `matchLengthWeight` (default 0) and
 * `matchLengthScaleTokens` (default 8192) are read too.
 */
export const prefixCacheScorerFactory: PluginFactory = (name, _p, r) => {
  const { autoTune, blockBytes, maxPrefixBlocksToMatch, maxPrefixTokensToMatch, lruCapacityPerServer } = readApproximateParams(r);
  const prefixMatchInfoProducerName = r.string('prefixMatchInfoProducerName', '');
  const matchLengthWeight = r.number('matchLengthWeight', 0, { min: 0, max: 1 });
  const matchLengthScaleTokens = r.int('matchLengthScaleTokens', DEFAULT_PREFIX_CACHE_PARAMS.matchLengthScaleTokens);
  if (matchLengthWeight > 0 && matchLengthScaleTokens <= 0) r.fail('matchLengthScaleTokens', `must be above 0 when matchLengthWeight is above 0, got ${matchLengthScaleTokens}`);
  return new PrefixCacheScorer(name, { autoTune, blockBytes, maxPrefixBlocksToMatch, maxPrefixTokensToMatch, lruCapacityPerServer, prefixMatchInfoProducerName, matchLengthWeight, matchLengthScaleTokens });
};

/** The approximate index's parameters, which current llm-d reads on its `approx-prefix-cache-producer` instead. */
export type ApproximateParams = Pick<PrefixCacheParams, 'autoTune' | 'blockBytes' | 'maxPrefixBlocksToMatch' | 'maxPrefixTokensToMatch' | 'lruCapacityPerServer'>;

/** Reads `autoTune`, `blockSizeTokens` (or the older `blockSize` / `hashBlockSize`), `maxPrefix*ToMatch`, `lruCapacityPerServer`. */
export function readApproximateParams(r: ParamReader): ApproximateParams {
  const autoTune = r.boolean('autoTune', DEFAULT_PREFIX_CACHE_PARAMS.autoTune);
  const tokens = r.has('blockSizeTokens') ? r.positiveInt('blockSizeTokens', 16) : undefined;
  const legacy = r.has('blockSize') ? 'blockSize' : r.has('hashBlockSize') ? 'hashBlockSize' : undefined;
  let blockBytes = DEFAULT_PREFIX_CACHE_PARAMS.blockBytes;
  if (tokens !== undefined) blockBytes = tokens * AVERAGE_CHARS_PER_TOKEN;
  if (legacy !== undefined) {
    const chars = r.positiveInt(legacy, 64);
    if (tokens === undefined) {
      blockBytes = chars;
      r.warn(`parameters.${legacy} is deprecated: it counts characters (${chars} = ~${chars / AVERAGE_CHARS_PER_TOKEN} tokens); use blockSizeTokens`);
    } else r.warn(`parameters.${legacy} is ignored: blockSizeTokens is set`);
  }
  r.has(legacy === 'blockSize' ? 'hashBlockSize' : 'blockSize');
  const maxPrefixBlocksToMatch = r.positiveInt('maxPrefixBlocksToMatch', DEFAULT_PREFIX_CACHE_PARAMS.maxPrefixBlocksToMatch);
  const maxPrefixTokensToMatch = r.int('maxPrefixTokensToMatch', 0, { min: 0 });
  const lruCapacityPerServer = r.positiveInt('lruCapacityPerServer', DEFAULT_PREFIX_CACHE_PARAMS.lruCapacityPerServer);
  return { autoTune, blockBytes, maxPrefixBlocksToMatch, maxPrefixTokensToMatch, lruCapacityPerServer };
}
