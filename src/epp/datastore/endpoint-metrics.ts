/** What an endpoint's model server reports about its load, as the scheduler reads it (from vLLM's /metrics). */

/**
 * One scrape's worth of engine state. Field names follow GIE's datalayer metrics so plugins read like theirs.
 * Invariant: `kvCacheUsagePercent` is a fraction in [0, 1]; queue sizes are non-negative integers.
 */
export interface EndpointMetrics {
  /** `vllm:num_requests_waiting` */
  waitingQueueSize: number;
  /** `vllm:num_requests_running` */
  runningQueueSize: number;
  /** `vllm:kv_cache_usage_perc` (older vLLM: `vllm:gpu_cache_usage_perc`), 0..1 */
  kvCacheUsagePercent: number;
  /** `vllm:lora_requests_info` running_lora_adapters, from the series with the largest value */
  runningLoras: readonly string[];
  /** `vllm:lora_requests_info` waiting_lora_adapters */
  waitingLoras: readonly string[];
  /** `vllm:lora_requests_info` max_lora; 0 when unknown */
  maxLoras: number;
  /** `vllm:cache_config_info` block_size, when reported */
  blockSize?: number;
  /** `vllm:cache_config_info` num_gpu_blocks, when reported */
  numGpuBlocks?: number;
  /** When this scrape completed (ms since epoch); staleness is judged from it. */
  updatedAt: number;
}
