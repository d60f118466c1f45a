/**
 * Histogram bucket bounds, the same as llm-d's router (pkg/epp/metrics, v0.10) and GIE v1.5 use, so their
 * dashboards' quantiles read the same from infergate.
 */

/** Request duration and GIE's TTFT: 5 ms to 1 hour. */
export const GENERAL_LATENCY = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120, 180, 240, 300, 360, 480, 600, 900, 1200, 1800, 2700,
  3600,
] as const;

/** llm-d's TTFT: 5 ms to 2 minutes. */
export const TTFT = [0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60, 120] as const;

/** llm-d's streaming TPOT: 0.5 ms to 2 s. */
export const STREAMING_TPOT = [0.0005, 0.00205, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 2] as const;

/** GIE v1.5's TPOT: 0.5 ms to 6 minutes. */
export const GIE_TPOT = [
  0.0005, 0.00205, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.125, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1, 1.5, 2, 3, 4.5, 6, 12, 18, 24, 30, 36, 48, 60, 90, 120, 180,
  270, 360,
] as const;

/** Inter-token latency: 1 ms to 2 s. */
export const ITL = [0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.15, 0.2, 0.3, 0.5, 0.75, 1, 2] as const;

/** Normalized time per output token: 1 ms to 10 s. */
export const NTPOT = [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0] as const;

/** Request body sizes: 64 B to 1 GiB. */
export const REQUEST_SIZE = [
  64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536, 131072, 262144, 524288, 1048576, 2097152, 4194304, 8388608, 16777216, 33554432, 67108864,
  134217728, 268435456, 536870912, 1073741824,
] as const;

/** Response body sizes: 1 B to 64 KiB (32778 is llm-d's, not a typo of ours). */
export const RESPONSE_SIZE = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536] as const;

/** Input and cached tokens: up to a million-token context. */
export const INPUT_TOKENS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32778, 65536, 131072, 262144, 524288, 1048576] as const;

/** Output tokens: up to 8192. */
export const OUTPUT_TOKENS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192] as const;

/** Scheduler and plugin durations: 0.1 ms to 100 ms. */
export const SCHEDULER = [0.0001, 0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1] as const;

/** llm-d's request processing (EPP overhead before dispatch): 0.5 ms to 10 s. */
export const REQUEST_PROCESSING = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.015, 0.025, 0.04, 0.06, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** llm-d's response processing (EPP overhead on the response): 0.1 ms to 5 s. */
export const RESPONSE_PROCESSING = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5] as const;

/** Prefix indexer hit ratio: tenths. */
export const HIT_RATIO = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0] as const;

/** Prefix indexer hit length in bytes. */
export const HIT_BYTES = [0, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536] as const;

/** Prometheus client_golang's DefBuckets, 5 ms to 10 s: llm-d's KV-cache index lookup latency uses them. */
export const PROMETHEUS_DEFAULT = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;
