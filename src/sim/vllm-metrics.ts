/** The vLLM metrics the simulator exposes on `/metrics`, under vLLM's names and labels (`model_name`, `engine`). */
import type { EngineGauges, EngineObserver, FinishedRequest } from './engine-observer.js';
import type { FinishReason } from './generation.js';
import type { CounterChild, HistogramChild } from './prometheus-text.js';
import { Counter, Histogram, gaugeText } from './prometheus-text.js';

// Bucket bounds as in vLLM's v1/metrics/loggers.py, so dashboards built for vLLM read the same.
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
  640.0, 2560.0,
];
const ITL_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
/** vLLM's buckets of time per output token, per request. */
const TPOT_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0];
/** vLLM's request_latency_buckets: e2e latency, queue time and the phases of a request. */
const REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0,
  7680.0,
];
/**
 * The `finished_reason` values of `vllm:request_success_total`: vLLM declares a series for each of its
 * FinishReason values, so `abort` shows (at 0: the simulator counts only requests that ran to the end).
 */
const FINISHED_REASONS: readonly (FinishReason | 'abort')[] = ['stop', 'length', 'abort'];
/** vLLM v1 labels every engine's series with its index; one simulator is one engine core, index 0. */
const ENGINE = '0';

/** vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, ... up to `max` (token counts per request). */
export function oneTwoFiveBuckets(max: number): number[] {
  const buckets: number[] = [];
  for (let scale = 1; ; scale *= 10) {
    for (const m of [1, 2, 5]) {
      if (m * scale > max) return buckets;
      buckets.push(m * scale);
    }
  }
}

/** The engine shape `/metrics` reports: `vllm:cache_config_info`, `max_lora`, and the token buckets' top. */
export interface MetricsConfig {
  /** vLLM's max_model_len: the token-count histograms' buckets go up to it. */
  readonly maxModelLen: number;
  readonly maxLoras: number;
  readonly blockSize: number;
  /** vLLM's num_gpu_blocks: the KV cache size in blocks. */
  readonly numGpuBlocks: number;
}

/** Counters and histograms fed by the engine; gauges are read from the engine at scrape time. */
export class VllmMetrics implements EngineObserver {
  readonly #labels: { model_name: string; engine: string };
  readonly #config: MetricsConfig;
  readonly #counters = {
    prompt: new Counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.'),
    generation: new Counter('vllm:generation_tokens_total', 'Number of generation tokens processed.'),
    success: new Counter('vllm:request_success_total', 'Count of successfully processed requests.'),
    preemptions: new Counter('vllm:num_preemptions_total', 'Cumulative number of preemption from the engine.'),
    prefixQueries: new Counter('vllm:prefix_cache_queries_total', 'Prefix cache queries, in terms of number of queried tokens.'),
    prefixHits: new Counter('vllm:prefix_cache_hits_total', 'Prefix cache hits, in terms of number of cached tokens.'),
  };
  readonly #histograms: Record<string, Histogram>;
  // Per-series handles, so per-token events format no labels.
  readonly #prompt: CounterChild;
  readonly #generation: CounterChild;
  readonly #preemptions: CounterChild;
  readonly #prefixQueries: CounterChild;
  readonly #prefixHits: CounterChild;
  readonly #ttft: HistogramChild;
  readonly #itl: HistogramChild;
  readonly #e2e: HistogramChild;
  readonly #queue: HistogramChild;
  // Observed once per finished request, as vLLM's FinishedRequestStats.
  readonly #perRequest: Record<'tpot' | 'prefill' | 'decode' | 'inference' | 'promptTokens' | 'generationTokens' | 'maxTokens', HistogramChild>;

  constructor(modelName: string, config: MetricsConfig) {
    this.#labels = { model_name: modelName, engine: ENGINE };
    this.#config = config;
    const tokens = oneTwoFiveBuckets(config.maxModelLen);
    // vLLM's names, help texts and buckets (v1/metrics/loggers.py), so its dashboards and tools read the same.
    const h = (this.#histograms = {
      ttft: new Histogram('vllm:time_to_first_token_seconds', 'Histogram of time to first token in seconds (queueing included).', TTFT_BUCKETS),
      itl: new Histogram('vllm:inter_token_latency_seconds', 'Histogram of inter-token latency in seconds.', ITL_BUCKETS),
      e2e: new Histogram('vllm:e2e_request_latency_seconds', 'Histogram of e2e request latency in seconds.', REQUEST_LATENCY_BUCKETS),
      queue: new Histogram('vllm:request_queue_time_seconds', 'Histogram of time spent in WAITING phase for request.', REQUEST_LATENCY_BUCKETS),
      inference: new Histogram('vllm:request_inference_time_seconds', 'Histogram of time spent in RUNNING phase for request.', REQUEST_LATENCY_BUCKETS),
      prefill: new Histogram('vllm:request_prefill_time_seconds', 'Histogram of time spent in PREFILL phase for request.', REQUEST_LATENCY_BUCKETS),
      decode: new Histogram('vllm:request_decode_time_seconds', 'Histogram of time spent in DECODE phase for request.', REQUEST_LATENCY_BUCKETS),
      tpot: new Histogram('vllm:request_time_per_output_token_seconds', 'Histogram of time_per_output_token_seconds per request.', TPOT_BUCKETS),
      promptTokens: new Histogram('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', tokens),
      generationTokens: new Histogram('vllm:request_generation_tokens', 'Number of generation tokens processed.', tokens),
      maxTokens: new Histogram('vllm:request_params_max_tokens', 'Histogram of the max_tokens request parameter.', tokens),
    });
    const l = this.#labels;
    const c = this.#counters;
    this.#prompt = c.prompt.child(l);
    this.#generation = c.generation.child(l);
    // vLLM's label is `finished_reason` (not the response field's `finish_reason`): dashboards sum by it.
    for (const finished_reason of FINISHED_REASONS) c.success.inc({ ...l, finished_reason }, 0);
    this.#preemptions = c.preemptions.child(l);
    this.#prefixQueries = c.prefixQueries.child(l);
    this.#prefixHits = c.prefixHits.child(l);
    this.#ttft = h.ttft.child(l);
    this.#itl = h.itl.child(l);
    this.#e2e = h.e2e.child(l);
    this.#queue = h.queue.child(l);
    this.#perRequest = {
      tpot: h.tpot.child(l),
      prefill: h.prefill.child(l),
      decode: h.decode.child(l),
      inference: h.inference.child(l),
      promptTokens: h.promptTokens.child(l),
      generationTokens: h.generationTokens.child(l),
      maxTokens: h.maxTokens.child(l),
    };
  }

  requestScheduled(promptTokens: number, queueSeconds: number): void {
    // vLLM counts prompt tokens once per request, when it is first scheduled.
    this.#prompt.inc(promptTokens);
    this.#queue.observe(queueSeconds);
  }

  prefixCacheQueried(queriedTokens: number, hitTokens: number): void {
    this.#prefixQueries.inc(queriedTokens);
    this.#prefixHits.inc(hitTokens);
  }

  requestPreempted(): void {
    this.#preemptions.inc();
  }

  firstToken(ttftSeconds: number): void {
    this.#ttft.observe(ttftSeconds);
  }

  interTokenLatency(seconds: number): void {
    this.#itl.observe(seconds);
  }

  tokenGenerated(): void {
    this.#generation.inc();
  }

  requestFinished(f: FinishedRequest): void {
    this.#counters.success.inc({ ...this.#labels, finished_reason: f.finishReason });
    this.#e2e.observe(f.e2eSeconds);
    const r = this.#perRequest;
    r.prefill.observe(f.prefillSeconds);
    r.decode.observe(f.decodeSeconds);
    r.inference.observe(f.inferenceSeconds);
    // vLLM's mean TPOT: the decode time over the tokens after the first; 0 for a one-token answer.
    r.tpot.observe(f.generationTokens > 1 ? f.decodeSeconds / (f.generationTokens - 1) : 0);
    r.promptTokens.observe(f.promptTokens);
    r.generationTokens.observe(f.generationTokens);
    if (f.maxTokens !== null) r.maxTokens.observe(f.maxTokens);
  }

  /** The whole exposition, with live gauges read from `engine`. */
  render(engine: EngineGauges): string {
    const l = this.#labels;
    const lora = {
      max_lora: String(this.#config.maxLoras),
      running_lora_adapters: engine.runningAdapters().join(','),
      waiting_lora_adapters: engine.waitingAdapters().join(','),
    };
    const cache = { block_size: String(this.#config.blockSize), engine: ENGINE, num_gpu_blocks: String(this.#config.numGpuBlocks) };
    return [
      gaugeText('vllm:num_requests_running', 'Number of requests in model execution batches.', [[l, engine.running]]),
      gaugeText('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', [[l, engine.waiting]]),
      gaugeText('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', [[l, engine.kvCacheUsage]]),
      // The value is a timestamp: vLLM keeps old label sets, and readers take the series with the largest value.
      gaugeText('vllm:lora_requests_info', 'Running stats on lora requests.', [[lora, Date.now() / 1000]]),
      gaugeText('vllm:cache_config_info', 'Information of the LLMEngine CacheConfig', [[cache, 1]]),
      ...Object.values(this.#counters).map((c) => c.render()),
      ...Object.values(this.#histograms).map((h) => h.render()),
    ].join('');
  }
}
