/**
 * The per-request families: llm-d's canonical `llm_d_epp_request_*` (labels model_name, target_model_name,
 * fairness_id, priority) and their deprecated GIE twins `inference_objective_*` (model_name,
 * target_model_name), with llm-d's names, help texts and buckets (pkg/epp/metrics, router v0.10). Each
 * observation is recorded once, on llm-d's series; most GIE twins are rendered from them.
 */
import type { Registry } from 'prom-client';
import * as B from './buckets.js';
import { alpha, register, type Collectable } from './family.js';
import { DerivedHistogramFamily, DerivedValueFamily } from './derived-family.js';
import { HistogramFamily } from './histogram-family.js';
import { CounterFamily, GaugeFamily } from './value-family.js';

export const LLMD = 'llm_d_epp_';
export const GIE_OBJECTIVE = 'inference_objective_';

const L = ['model_name', 'target_model_name', 'fairness_id', 'priority'] as const;
const G = ['model_name', 'target_model_name'] as const;

const deprecated = (use: string, help: string): string => alpha(`[Deprecated: Use ${use}] ${help}`);

/** GIE's twin of an llm-d histogram: `inference_objective_<name>` by model_name and target_model_name. */
function gieHistogram(source: HistogramFamily, name: string, use: string, help: string): DerivedHistogramFamily {
  return new DerivedHistogramFamily(source, { name: `${GIE_OBJECTIVE}${name}`, help: deprecated(use, help), labelNames: G, labels: ([m, t]) => [m!, t!] });
}

export class RequestFamilies {
  // llm-d
  readonly requests = new CounterFamily({ name: `${LLMD}request_total`, help: alpha('Total number of processed requests.'), labelNames: L });
  readonly errors = new CounterFamily({ name: `${LLMD}request_error_total`, help: alpha('Total number of request errors.'), labelNames: [...L, 'error_code'] });
  readonly duration = new HistogramFamily({ name: `${LLMD}request_duration_seconds`, help: alpha('End-to-end request latency distribution in seconds.'), labelNames: L, buckets: B.GENERAL_LATENCY });
  readonly requestSize = new HistogramFamily({ name: `${LLMD}request_size_bytes`, help: alpha('Incoming request body size distribution in bytes.'), labelNames: L, buckets: B.REQUEST_SIZE });
  readonly responseSize = new HistogramFamily({ name: `${LLMD}response_size_bytes`, help: alpha('Outgoing response body size distribution in bytes.'), labelNames: L, buckets: B.RESPONSE_SIZE });
  readonly inputTokens = new HistogramFamily({ name: `${LLMD}request_input_tokens`, help: alpha('Input token count distribution per request.'), labelNames: L, buckets: B.INPUT_TOKENS });
  readonly outputTokens = new HistogramFamily({ name: `${LLMD}request_output_tokens`, help: alpha('Output token count distribution per request.'), labelNames: L, buckets: B.OUTPUT_TOKENS });
  readonly cachedTokens = new HistogramFamily({
    name: `${LLMD}request_cached_tokens`,
    help: alpha('Distribution of prompt tokens read from cache per request, as reported by the model server in the response.'),
    labelNames: L,
    buckets: B.INPUT_TOKENS,
  });
  readonly running = new GaugeFamily({ name: `${LLMD}request_running`, help: alpha('Current number of active running requests.'), labelNames: L });
  readonly ntpot = new HistogramFamily({ name: `${LLMD}request_ntpot_seconds`, help: alpha('Normalized time per output token in seconds (end-to-end latency divided by output token count).'), labelNames: L, buckets: B.NTPOT });
  readonly ttft = new HistogramFamily({
    name: `${LLMD}request_ttft_seconds`,
    help: alpha('Time to first token in seconds, measured from request received to first response byte. For non-streaming requests, this equals total request duration.'),
    labelNames: [...L, 'streaming'],
    buckets: B.TTFT,
  });
  readonly tpot = new HistogramFamily({
    name: `${LLMD}request_streaming_tpot_seconds`,
    help: alpha('Average time per output token in seconds for streaming requests, computed as (e2e - TTFT) / (output_tokens - 1).'),
    labelNames: L,
    buckets: B.STREAMING_TPOT,
  });
  readonly itl = new HistogramFamily({
    name: `${LLMD}request_streaming_itl_seconds`,
    help: alpha('Inter-token latency in seconds for streaming requests, measured as the time between consecutive response body chunks.'),
    labelNames: L,
    buckets: B.ITL,
  });
  readonly processing = new HistogramFamily({
    name: `${LLMD}request_processing_duration_seconds`,
    help: alpha('EPP request processing latency distribution in seconds, from request receipt until the request body has been handled, including admission control.'),
    buckets: B.REQUEST_PROCESSING,
  });
  readonly responseProcessing = new HistogramFamily({
    name: `${LLMD}response_processing_duration_seconds`,
    help: alpha('EPP response processing latency distribution in seconds: the sum of per-chunk handler time for a streamed response, or the interval from response headers to completion for a non-streaming response.'),
    buckets: B.RESPONSE_PROCESSING,
  });
  readonly rewrites = new CounterFamily({ name: `${LLMD}model_rewrite_decisions_total`, help: alpha('Total number of inference model rewrite decisions.'), labelNames: ['model_rewrite_name', 'model_name', 'target_model'] });

  // GIE's twins: the same counts under GIE's names and labels (summed over fairness_id and priority where GIE has
  // neither), rendered from llm-d's series at scrape time; TTFT and TPOT have their own buckets, so their own series.
  readonly gieRequests = new DerivedValueFamily(this.requests, {
    name: `${GIE_OBJECTIVE}request_total`,
    help: deprecated(`${LLMD}request_total`, 'Counter of inference objective requests broken out for each model and target model.'),
    labelNames: [...G, 'priority'],
    labels: ([m, t, , p]) => [m!, t!, p!],
  });
  readonly gieErrors = new DerivedValueFamily(this.errors, {
    name: `${GIE_OBJECTIVE}request_error_total`,
    help: deprecated(`${LLMD}request_error_total`, 'Counter of inference objective requests errors broken out for each model and target model.'),
    labelNames: [...G, 'error_code'],
    labels: ([m, t, , , code]) => [m!, t!, code!],
  });
  readonly gieDuration = gieHistogram(this.duration, 'request_duration_seconds', `${LLMD}request_duration_seconds`, 'Inference objective response latency distribution in seconds for each model and target model.');
  readonly gieRequestSize = gieHistogram(this.requestSize, 'request_sizes', `${LLMD}request_size_bytes`, 'Inference objective requests size distribution in bytes for each model and target model.');
  readonly gieResponseSize = gieHistogram(this.responseSize, 'response_sizes', `${LLMD}response_size_bytes`, 'Inference objective responses size distribution in bytes for each model and target model.');
  readonly gieInputTokens = gieHistogram(this.inputTokens, 'input_tokens', `${LLMD}request_input_tokens`, 'Inference objective input token count distribution for requests in each model.');
  readonly gieOutputTokens = gieHistogram(this.outputTokens, 'output_tokens', `${LLMD}request_output_tokens`, 'Inference objective output token count distribution for requests in each model.');
  readonly gieCachedTokens = gieHistogram(this.cachedTokens, 'prompt_cached_tokens', `${LLMD}request_cached_tokens`, 'Inference objective prompt cached token count distribution for requests in each model.');
  readonly gieRunning = new DerivedValueFamily(this.running, {
    name: `${GIE_OBJECTIVE}running_requests`,
    help: deprecated(`${LLMD}request_running`, 'Inference objective number of running requests in each model.'),
    labelNames: ['model_name'],
    labels: ([m]) => [m!],
  });
  readonly gieNtpot = gieHistogram(this.ntpot, 'normalized_time_per_output_token_seconds', `${LLMD}request_ntpot_seconds`, 'Inference objective latency divided by number of output tokens in seconds for each model and target model.');
  readonly gieTtft = new HistogramFamily({
    name: `${GIE_OBJECTIVE}request_ttft_seconds`,
    help: deprecated(`${LLMD}request_ttft_seconds`, 'Inference model TTFT distribution in seconds for each model and target model.'),
    labelNames: G,
    buckets: B.GENERAL_LATENCY,
  });
  readonly gieTpot = new HistogramFamily({
    name: `${GIE_OBJECTIVE}request_tpot_seconds`,
    help: deprecated(`${LLMD}request_streaming_tpot_seconds`, 'Inference model TPOT distribution in seconds for each model and target model.'),
    labelNames: G,
    buckets: B.GIE_TPOT,
  });
  readonly gieRewrites = new DerivedValueFamily(this.rewrites, { name: 'inference_extension_model_rewrite_decisions_total', help: alpha('Total number of inference model rewrite decisions.') });

  /** Every family, llm-d's first, each followed by its GIE twin where one exists. */
  all(): Collectable[] {
    return [
      this.requests,
      this.gieRequests,
      this.errors,
      this.gieErrors,
      this.duration,
      this.gieDuration,
      this.requestSize,
      this.gieRequestSize,
      this.responseSize,
      this.gieResponseSize,
      this.inputTokens,
      this.gieInputTokens,
      this.outputTokens,
      this.gieOutputTokens,
      this.cachedTokens,
      this.gieCachedTokens,
      this.running,
      this.gieRunning,
      this.ntpot,
      this.gieNtpot,
      this.ttft,
      this.gieTtft,
      this.tpot,
      this.gieTpot,
      this.itl,
      this.processing,
      this.responseProcessing,
      this.rewrites,
      this.gieRewrites,
    ];
  }

  register(registry: Registry): void {
    for (const f of this.all()) register(registry, f);
  }
}
