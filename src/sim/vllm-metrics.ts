/** The vLLM metrics the simulator exposes on `/metrics`, under vLLM's names with a `model_name` label. */
import type { Engine, EngineObserver, FinishReason } from './engine.js';
import { Counter, Histogram, gaugeText } from './prometheus-text.js';

// Bucket bounds as in vLLM's v1/metrics/loggers.py, so dashboards built for vLLM read the same.
const TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
  640.0, 2560.0,
];
const E2E_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0,
  7680.0,
];
const FINISH_REASONS: readonly FinishReason[] = ['stop', 'length'];

/** Counters and histograms fed by the engine; gauges are read from the engine at scrape time. */
export class VllmMetrics implements EngineObserver {
  readonly #labels: { model_name: string };
  readonly #maxNumSeqs: number;
  readonly #maxLora: number;
  readonly #promptTokens = new Counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.');
  readonly #generationTokens = new Counter('vllm:generation_tokens_total', 'Number of generation tokens processed.');
  readonly #success = new Counter('vllm:request_success_total', 'Count of successfully processed requests.');
  readonly #ttft = new Histogram(
    'vllm:time_to_first_token_seconds',
    'Histogram of time to first token in seconds (queueing included).',
    TTFT_BUCKETS,
  );
  readonly #e2e = new Histogram(
    'vllm:e2e_request_latency_seconds',
    'Histogram of e2e request latency in seconds.',
    E2E_BUCKETS,
  );

  /** `maxLora` is reported as the `max_lora` label: how many adapters can run at once. */
  constructor(modelName: string, maxNumSeqs: number, maxLora: number) {
    this.#labels = { model_name: modelName };
    this.#maxNumSeqs = maxNumSeqs;
    this.#maxLora = maxLora;
    this.#promptTokens.inc(this.#labels, 0);
    this.#generationTokens.inc(this.#labels, 0);
    for (const finish_reason of FINISH_REASONS) this.#success.inc({ ...this.#labels, finish_reason }, 0);
    this.#ttft.init(this.#labels);
    this.#e2e.init(this.#labels);
  }

  requestAdmitted(req: { readonly promptTokens: number }): void {
    // vLLM counts prompt tokens when it prefills them, i.e. once the request is scheduled.
    this.#promptTokens.inc(this.#labels, req.promptTokens);
  }

  firstToken(ttftSeconds: number): void {
    this.#ttft.observe(this.#labels, ttftSeconds);
  }

  tokenGenerated(): void {
    this.#generationTokens.inc(this.#labels);
  }

  requestFinished(finishReason: FinishReason, e2eSeconds: number): void {
    this.#success.inc({ ...this.#labels, finish_reason: finishReason });
    this.#e2e.observe(this.#labels, e2eSeconds);
  }

  /** The whole exposition, with live gauges read from `engine`. */
  render(engine: Pick<Engine, 'running' | 'waiting' | 'runningAdapters' | 'waitingAdapters'>): string {
    const l = this.#labels;
    const lora = {
      max_lora: String(this.#maxLora),
      running_lora_adapters: engine.runningAdapters().join(','),
      waiting_lora_adapters: engine.waitingAdapters().join(','),
    };
    return [
      gaugeText('vllm:num_requests_running', 'Number of requests in model execution batches.', [[l, engine.running]]),
      gaugeText('vllm:num_requests_waiting', 'Number of requests waiting to be processed.', [[l, engine.waiting]]),
      // No KV cache yet: running / max_num_seqs stands in for block usage (0..1).
      gaugeText('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', [
        [l, engine.running / this.#maxNumSeqs],
      ]),
      // The value is a timestamp: vLLM keeps old label sets, and readers take the series with the largest value.
      gaugeText('vllm:lora_requests_info', 'Running stats on lora requests.', [[lora, Date.now() / 1000]]),
      this.#promptTokens.render(),
      this.#generationTokens.render(),
      this.#success.render(),
      this.#ttft.render(),
      this.#e2e.render(),
    ].join('');
  }
}
